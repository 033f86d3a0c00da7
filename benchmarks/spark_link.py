"""The Spark engine beside the local engine on one county, in the same run: wall time, CPU
seconds, peak memory, and whether the two give identical entities and links.

The county is loaded once; each engine then links its own copy of that workspace from
scratch (model trained) in a child process, so the figures of one do not hold the
other's memory. Peak memory is the largest sum of resident memory over the child and all
its descendants (for Spark: the driver, its JVM and the Python workers), sampled every
0.2 s, and each of those parts' own peak; CPU seconds are the child's and its descendants' (getrusage of the waited-for
children, or the sampled processes' own counts where larger: the JVM is not waited for).

    python benchmarks/spark_link.py --households 23000 --county /tmp/spark/c100k --tmp /tmp/spark/bench
    flock /work/heavy.lock python benchmarks/spark_link.py --county /tmp/shared/c1m --tmp /tmp/spark/b1m \\
        --spark-memory 8g
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from _common import command_line, county, extract_dirs, person_records

from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace


def _tree(p: psutil.Process, cpu: dict[int, float]) -> dict[str, int]:
    """Resident memory of the process and its descendants now, in all and by part (the
    driver's Python process, the JVM — in local mode Spark's driver and executors — and
    the executors' Python workers); each one's CPU seconds so far into `cpu` (a JVM that
    its parent does not wait for is missing from getrusage)."""
    out = {"tree": 0, "driver": 0, "jvm": 0, "workers": 0}
    for q in [p, *p.children(recursive=True)]:
        try:
            with q.oneshot():
                rss = q.memory_info().rss
                part = "driver" if q.pid == p.pid else ("jvm" if "java" in q.name() else "workers")
                out["tree"] += rss
                out[part] += rss
                t = q.cpu_times()
                cpu[q.pid] = max(cpu.get(q.pid, 0.0), t.user + t.system)
        except psutil.Error:
            pass
    return out


def run_child(args: list[str]) -> dict[str, float]:
    """Run one engine in a child process; its wall time, CPU seconds and peak tree memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args])
    peak: dict[str, int] = {}
    seen: dict[int, float] = {}
    ps = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                for part, rss in _tree(ps, seen).items():
                    peak[part] = max(peak.get(part, 0), rss)
            except psutil.Error:
                pass
            stop.wait(0.2)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    stop.set()
    sampler.join()
    if code:
        raise SystemExit(f"the {args[1]} run failed (exit {code})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The larger of: every waited-for descendant (exact), the sampled processes (each as of
    # its last sample, 0.2 s or less before it ended).
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(seen.values()))
    return {"wall": time.perf_counter() - t0, "cpu": cpu} | {
        f"peak_{part}_mb": rss / 2**20 for part, rss in peak.items()}


def link_one(ws_dir: Path, engine: str, master: str, memory: str | None, out: Path) -> None:
    """The child: link the workspace with one engine, write its report as JSON."""
    from kglink.engines import scorer_for
    from kglink.linkage.run import link

    ws = open_workspace(ws_dir, create=False)
    t0 = time.perf_counter()
    with scorer_for(engine, spark_master=master, spark_memory=memory) as scorer:
        t1 = time.perf_counter()
        report = link(ws, full=True, retrain=True, scorer=scorer, progress=lambda msg: print(
            f"  [{engine} {time.perf_counter() - t1:7.1f} s] {msg}", flush=True))
        t2 = time.perf_counter()
    out.write_text(json.dumps({
        "start_seconds": t1 - t0, "link_seconds": t2 - t1,
        "kinds": [{"kind": k.kind, "records": k.records, "pairs": k.candidate_pairs, "links": k.links,
                   "entities": k.entities, "stages": k.stages} for k in report.kinds]}))


def _result(ws_dir: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    ws = open_workspace(ws_dir, create=False)
    members = [tuple(r) for r in ws.conn.execute(
        "SELECT kind, agency, record_id, entity_id, probability FROM entity_members ORDER BY 1, 2, 3")]
    links = [tuple(r) for r in ws.conn.execute("SELECT * FROM links ORDER BY 1, 2, 3")]
    ws.close()
    return members, links


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=2300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", type=Path, default=None, help="reuse (or make here) a generated county")
    ap.add_argument("--tmp", type=Path, required=True, help="scratch folder for the workspaces")
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--spark-memory", default=None, help="the Spark driver's memory (default 2g)")
    ap.add_argument("--engines", default="local,spark")
    ap.add_argument("--child", nargs=3, metavar=("WS", "ENGINE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        ws_dir, engine, out = args.child
        link_one(Path(ws_dir), engine, args.spark_master, args.spark_memory, Path(out))
        return
    cdir = county(args.county or args.tmp / "county", args.households, args.seed)
    base = args.tmp / "loaded"
    if not (base / "kglink.sqlite").exists():
        ws = open_workspace(base)
        load_extracts(ws, extract_dirs(cdir))
        ws.close()
    print(f"command: {command_line()}")
    print(f"person records: {person_records(cdir):,}")
    engines = args.engines.split(",")
    for engine in engines:
        ws_dir = args.tmp / f"ws-{engine}"
        shutil.rmtree(ws_dir, ignore_errors=True)
        shutil.copytree(base, ws_dir)
        out = args.tmp / f"{engine}.json"
        extra = ["--spark-master", args.spark_master] + (
            ["--spark-memory", args.spark_memory] if args.spark_memory else [])
        fig = run_child(["--child", str(ws_dir), engine, str(out), "--tmp", str(args.tmp), *extra])
        rep = json.loads(out.read_text())
        print(f"{engine}: link {rep['link_seconds']:.1f} s (+ {rep['start_seconds']:.1f} s starting the "
              f"engine), process tree {fig['wall']:.1f} s wall, {fig['cpu']:.1f} CPU s, "
              f"peak memory {fig.get('peak_tree_mb', 0):,.0f} MB (each part's own peak: driver "
              f"{fig.get('peak_driver_mb', 0):,.0f} MB, JVM {fig.get('peak_jvm_mb', 0):,.0f} MB, "
              f"Python workers {fig.get('peak_workers_mb', 0):,.0f} MB)")
        for k in rep["kinds"]:
            print(f"  {k['kind']}: {k['records']:,} records, {k['pairs']:,} pairs, {k['links']:,} links, "
                  f"{k['entities']:,} entities")
            print("    " + ", ".join(f"{stage} {sec:.1f} s" for stage, sec in k["stages"].items()))
    if len(engines) == 2:
        a, b = (_result(args.tmp / f"ws-{e}") for e in engines)
        print(f"identical entities: {a[0] == b[0]} ({len(a[0]):,} memberships); "
              f"identical links: {a[1] == b[1]} ({len(a[1]):,} links)")


if __name__ == "__main__":
    main()
