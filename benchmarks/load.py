"""Load throughput: a synthetic county into a fresh workspace.

Peer: the same files read with the csv module and inserted into SQLite with no
validation or cleaning (the floor any loader sits on). The ratio shows what
validation, cleaning and accounting cost. Rows are validated by worker processes
(KGLINK_WORKERS=1: none); their CPU and peak memory are printed apart.

    python benchmarks/load.py --households 40000
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _common import command_line, county, extract_dirs, peak_rss_mb, person_records

from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace


def raw_floor(dirs: list[Path], db: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE rows (file TEXT, data TEXT)")
    n = 0
    for d in dirs:
        for f in sorted(d.glob("*.csv")):
            with f.open(encoding="utf-8") as fh:
                rows = [(f.name, json.dumps(r)) for r in csv.DictReader(fh)]
            conn.executemany("INSERT INTO rows VALUES (?, ?)", rows)
            n += len(rows)
    conn.commit()
    conn.close()
    return time.perf_counter() - t0, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", type=Path, default=None, help="reuse a generated county here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        cdir = county(args.county or Path(tmp) / "county", args.households, args.seed)
        dirs = extract_dirs(cdir)
        persons = person_records(cdir)
        floor_s, rows = raw_floor(dirs, Path(tmp) / "floor.sqlite")
        ws = stack.enter_context(open_workspace(Path(tmp) / "ws"))
        t0, cpu0 = time.perf_counter(), time.process_time()
        reports = load_extracts(ws, dirs)
        load_s, load_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        read = sum(f.read for r in reports for f in r.files)
        loaded = sum(f.loaded for r in reports for f in r.files)
        rejected = sum(len(f.rejects) for r in reports for f in r.files)
        t1 = time.perf_counter()
        again = load_extracts(ws, dirs)
        reload_s = time.perf_counter() - t1
        assert all(r.skipped_reason for r in again)
    print(f"command: {command_line()}")
    print(f"person records: {persons}; rows in all files: {rows}")
    print(f"rows read {read} = loaded {loaded} + rejected {rejected}: "
          f"{'OK' if read == loaded + rejected else 'MISMATCH'}")
    print(f"kglink load: {load_s:.1f} s ({read / load_s:,.0f} rows/s, {persons / load_s:,.0f} persons/s); "
          f"CPU {load_cpu:.1f} s here + {workers.ru_utime + workers.ru_stime:.1f} s in validating "
          f"workers (peak {workers.ru_maxrss / 1024:,.0f} MB each at most)")
    print(f"peer (csv + sqlite, no validation): {floor_s:.1f} s; kglink/peer time ratio {load_s / floor_s:.2f}")
    print(f"identical reload: {reload_s:.2f} s (nothing changed)")
    print(f"peak memory: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
