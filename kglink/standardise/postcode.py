"""UK postcodes: canonical `AA9A 9AA`, and the area / district / sector a match can rest on."""
from __future__ import annotations

import re
from typing import NamedTuple

# The outward code forms (A9, A99, AA9, AA99, A9A, AA9A) and the inward code 9AA; inward
# letters never include C, I, K, M, O, V.  GIR 0AA is the one historic exception.
_POSTCODE = re.compile(
    r"^(?P<out>[A-Z]{1,2}[0-9][0-9A-Z]?)(?P<in>[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_STRIP = re.compile(r"[^A-Z0-9]")


class Postcode(NamedTuple):
    area: str      # "BH"
    district: str  # "BH15"
    sector: str    # "BH15 1"
    unit: str      # "BH15 1AA"


def canonical_postcode(text: str | None) -> str | None:
    """`bh151aa`, ` BH15  1AA ` -> `BH15 1AA`; None when empty or not a UK postcode."""
    if not text:
        return None
    s = _STRIP.sub("", text.upper())
    if s == "GIR0AA":
        return "GIR 0AA"
    m = _POSTCODE.match(s)
    if not m:
        return None
    return f"{m['out']} {m['in']}"


def parse_postcode(text: str | None) -> Postcode | None:
    unit = canonical_postcode(text)
    if unit is None:
        return None
    outward, inward = unit.split(" ")
    area = re.match(r"[A-Z]+", outward)
    return Postcode(area[0] if area else outward, outward, f"{outward} {inward[0]}", unit)
