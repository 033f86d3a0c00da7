"""Benchmark: generate a synthetic county of about 1,000,000 person records.

    python benchmarks/synth.py [--households 235000] [--seed 1] [--style kglink|varied] [--out DIR] [--keep]

Prints households, person records per agency, total records, seconds and peak memory
(ru_maxrss of this process). Target: 1,000,000 person records in under 3 minutes and
under 4 GB. The output folder is deleted afterwards unless --keep is given.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kglink.synth import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=235_000,
                        help="about 4.3 person records per household (default: 235000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--style", choices=("kglink", "varied"), default="kglink")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated county")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="kglink-synth-")) / "county"
    start = time.perf_counter()
    summary = generate(out, args.households, args.seed, style=args.style)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    print(f"households:           {args.households:>10,}")
    for agency, n in summary.person_records.items():
        print(f"person records {agency + ':':<22}{n:>10,}")
    total_rows = sum(sum(files.values()) for files in summary.records.values())
    print(f"total person records: {summary.total_person_records:>10,}")
    print(f"total rows (all files): {total_rows:>8,}")
    print(f"true persons:         {summary.true_persons:>10,}")
    print(f"seconds:              {seconds:>10.1f}")
    print(f"peak memory (MB):     {peak_mb:>10.0f}")
    print(f"records per second:   {summary.total_person_records / seconds:>10,.0f}")
    if not args.keep:
        shutil.rmtree(out if args.out else out.parent, ignore_errors=True)
    ok = summary.total_person_records >= 1_000_000 and seconds < 180 and peak_mb < 4096
    print("target met" if ok else "target NOT met (1M records, < 180 s, < 4 GB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
