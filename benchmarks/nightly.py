"""The nightly run, timed step by step with each step's peak memory: a first full run on a
new workspace, then the next night's run after one agency's new extract with about 1 % of
its person records changed.

    python benchmarks/nightly.py --households 23000                  # about 100k person records
    python benchmarks/nightly.py --households 23000 --neo4j          # with the Neo4j sync
    python benchmarks/nightly.py --households 235000 --neo4j         # about 1M

It runs `kglink nightly`'s own code (kglink.reports.nightly.run_nightly) and times the
library calls it makes: load, link, Neo4j sync (with --neo4j), the findings (every query
and the unconfirmed-link ones; the embedded store's graph build inside it is shown on its
own), and the report (what is left: comparing with the previous run, findings.json, CSV,
HTML, the research packs). With --keep the workspace and reports stay in --tmp; each
finding gone the next night is tried again on the previous night's reference date.
Peak memory is the process's resident memory sampled during each step (a step starts
with whatever the steps before it left). CPU seconds are this process's (the
Neo4j server's work during a sync is not in them): on a shared machine they say more
than wall time about kglink's own cost. The CPU of its worker processes (the load's
validating workers, link's comparing processes) is shown apart, as "+ children CPU s".
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import command_line, county, extract_dirs, person_records

import kglink.graph.embedded as embedded
import kglink.graph.neo4j_store as neo4j_store
import kglink.reports.nightly as nightly
from kglink.queries.runner import reference_date
from kglink.workspace import open_workspace


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the load's validating
    workers, link's comparing processes), counted when they are waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Steps:
    """Seconds and peak resident memory of each named step, sampled every 50 ms."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.children_cpu: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self._current: list[str] = []
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            now = rss_mb()
            for name in self._current:
                self.peak[name] = max(self.peak.get(name, 0.0), now)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._current.append(name)
        self.peak[name] = max(self.peak.get(name, 0.0), rss_mb())
        t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c0
            self.children_cpu[name] = self.children_cpu.get(name, 0.0) + _children_cpu() - k0
            self.peak[name] = max(self.peak[name], rss_mb())
            self._current.remove(name)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return fn(*args, **kwargs)
        return timed

    def close(self) -> None:
        self._stop.set()


def run(ws_path: Path, extracts: list[Path], out: Path, day: date, neo: Any) -> tuple[Steps, Any]:
    """One nightly run with its steps timed (the module functions run_nightly calls are
    wrapped for the run, then put back)."""
    steps = Steps()
    saved = (nightly.load_extracts, nightly.link, nightly.findings_for, neo4j_store.sync, embedded.build,
             nightly.embedded_view)
    nightly.load_extracts = steps.wrap("load", nightly.load_extracts)
    nightly.link = steps.wrap("link", nightly.link)
    nightly.findings_for = steps.wrap("queries (all, with unconfirmed)", nightly.findings_for)
    # The graph the queries read is read (and built) before them, and kept for the packs.
    nightly.embedded_view = steps.wrap("queries (all, with unconfirmed)", nightly.embedded_view)
    neo4j_store.sync = steps.wrap("Neo4j sync", neo4j_store.sync)
    embedded.build = steps.wrap("  of which embedded graph build", embedded.build)
    try:
        with steps.step("whole run"):
            with open_workspace(ws_path) as ws:
                res = nightly.run_nightly(ws, extracts, out, neo4j=neo, today=day)
    finally:
        (nightly.load_extracts, nightly.link, nightly.findings_for, neo4j_store.sync,
         embedded.build, nightly.embedded_view) = saved
        steps.close()
    named = sum(v for k, v in steps.seconds.items() if k not in ("whole run",) and not k.startswith("  "))
    steps.seconds["report (the rest)"] = steps.seconds["whole run"] - named
    steps.cpu["report (the rest)"] = steps.cpu["whole run"] - sum(
        v for k, v in steps.cpu.items() if k != "whole run" and not k.startswith("  "))
    return steps, res


def changed_extract(src: Path, dst: Path, share: float) -> int:
    """A copy of an agency's extract, one day newer, with `share` of its person records
    changed (a new phone number: an ordinary correction that changes the record)."""
    shutil.copytree(src, dst)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    when = datetime.fromisoformat(manifest["extracted_at"].replace("Z", "+00:00")) + timedelta(days=1)
    manifest["extracted_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    with (src / "persons.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys()) if rows else []
    step = max(1, round(1 / share))
    changed = 0
    for i, row in enumerate(rows):
        if i % step == 0 and "phone" in row:
            row["phone"] = f"07700 9{i % 100000:05d}"
            changed += 1
    with (dst / "persons.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return changed


def show(title: str, steps: Steps, res: Any) -> None:
    print(f"{title}: {len(res.findings)} findings ({len(res.new)} new, {len(res.gone)} gone)")
    order = ["load", "link", "Neo4j sync", "queries (all, with unconfirmed)", "  of which embedded graph build",
             "report (the rest)", "whole run"]
    print(f"  {'step':34} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'+ children CPU s':>17}")
    for name in order:
        if name in steps.seconds:
            peak = steps.peak.get(name)
            print(f"  {name:34} {steps.seconds[name]:8.1f} {steps.cpu.get(name, 0.0):8.1f} "
                  f"{f'{peak:,.0f}' if peak else '':>8} {steps.children_cpu.get(name, 0.0):17.1f}")
    b = embedded.last_build
    if b is not None and "  of which embedded graph build" in steps.seconds:
        how = ("full build" if b.full else "changed items only made again" if b.changed_only
               else "brought up to date (whole graph streamed)")
        print(f"  embedded graph, {how}: {b.items_made:,} items made; "
              f"{b.nodes:,} nodes ({b.nodes_written:,} written, {b.nodes_deleted:,} deleted), "
              f"{b.relationships:,} relationships ({b.relationships_written:,} written, "
              f"{b.relationships_deleted:,} deleted)")


def explain_gone(ws_path: Path, res: Any, before: date) -> None:
    """Each finding gone the next night: is it back when the queries judge the new
    workspace on the previous night's reference date (then the moved date took it), and
    are the entities it named still there (else linkage moved their records)? Prints
    query names, ids and counts only, never a person's details."""
    from kglink.queries.runner import embedded_view, run_on_view
    from kglink.queries.unconfirmed import unconfirmed_findings

    gone = {i: res.previous[i] for i in res.gone}
    if not gone:
        return
    with open_workspace(ws_path) as ws:
        view = embedded_view(ws, before)
        found = run_on_view(view, view.ctx)
        found += unconfirmed_findings(ws, found, view=view)
        back = {f.id for f in found} & set(gone)
        members = {eid for (eid,) in ws.conn.execute("SELECT DISTINCT entity_id FROM entity_members")}
        for fid, f in sorted(gone.items()):
            named = [p["entity_id"] for p in f.get("people", [])]
            here = [e in view.g for e in named]
            print(f"  gone: {fid} ({f['query']}): {'back' if fid in back else 'not back'} on "
                  f"the previous reference date {before}; {sum(here)} of {len(named)} people it "
                  f"named still entities in the graph "
                  f"({sum(e in members for e in named)} of them linked entities)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=23000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", type=Path, default=None, help="reuse a generated county")
    ap.add_argument("--agency", default="police", help="the agency whose newer extract comes in")
    ap.add_argument("--changed", type=float, default=0.01, help="share of its person records changed")
    ap.add_argument("--neo4j", action="store_true", help="sync to Neo4j too (NEO4J_URI; NEO4J_PASSWORD or the local server's)")
    ap.add_argument("--tmp", type=Path, default=None, help="where the workspace goes (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the workspace and reports (in --tmp)")
    args = ap.parse_args()
    neo = None
    if args.neo4j:
        neo = neo4j_store.Neo4jSettings.from_env()   # NEO4J_PASSWORD, else the local server's generated one
    if args.tmp is not None:
        args.tmp.mkdir(parents=True, exist_ok=True)
    kept = nullcontext(tempfile.mkdtemp(dir=args.tmp)) if args.keep else None
    with kept or tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        cdir = county(args.county or Path(tmp) / "county", args.households, args.seed)
        print(f"command: {command_line()}")
        print(f"person records: {person_records(cdir)}")
        ws_path, out = Path(tmp) / "ws", Path(tmp) / "reports"
        first, res = run(ws_path, extract_dirs(cdir), out, date(2026, 1, 1), neo)
        show("first full run", first, res)
        newer = Path(tmp) / "newer" / args.agency
        n = changed_extract(cdir / args.agency, newer, args.changed)
        print(f"next night: {args.agency}'s newer extract, {n} person records changed "
              f"({args.changed:.0%} of its persons)")
        with open_workspace(ws_path) as ws:
            before = reference_date(ws)
        again, res = run(ws_path, [newer], out, date(2026, 1, 2), neo)
        show("incremental run", again, res)
        explain_gone(ws_path, res, before)
        if args.keep:
            print(f"kept: {tmp}")


if __name__ == "__main__":
    main()
