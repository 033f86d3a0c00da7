"""Shared helpers for the benchmarks: a synthetic county on disk, timing, memory."""
from __future__ import annotations

import csv
import resource
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

AGENCIES = ("police", "childrens_social_care", "education", "health", "visor", "marac", "nca")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    results[label] = time.perf_counter() - t0


def person_records(county: Path) -> int:
    total = 0
    for agency in AGENCIES:
        f = county / agency / "persons.csv"
        if f.exists():
            with f.open(encoding="utf-8") as fh:
                total += sum(1 for _ in csv.reader(fh)) - 1
    return total


def county(out: Path, households: int, seed: int = 7, fresh: bool = False, style: str = "kglink") -> Path:
    """Generate (or reuse) a synthetic county under `out`, in a style (kglink or varied)."""
    from kglink.synth import generate

    marker = out / "truth" / "meta.json"
    if fresh and out.exists():
        shutil.rmtree(out)
    if not marker.exists():
        generate(out, households=households, seed=seed, style=style)
    return out


def county_style(county_dir: Path) -> str:
    """The style a county was generated in, as its truth/meta.json says (one line)."""
    import json

    meta = json.loads((county_dir / "truth" / "meta.json").read_text(encoding="utf-8"))
    style = meta.get("style")
    if not style:
        return "kglink"
    from kglink.synth.county_style import style_for

    return style_for(style["name"], style["seed"]).summary()


def extract_dirs(county_dir: Path) -> list[Path]:
    return [county_dir / a for a in AGENCIES if (county_dir / a / "manifest.json").exists()]


def command_line() -> str:
    return "python " + " ".join(sys.argv)
