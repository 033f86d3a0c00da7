"""Addresses parsed into flat / number / house name / street / locality / town.

`Flat 2, 14 High St`, `2/14 High Street` and `FLAT 2 14 HIGH STREET` all parse to
flat 2, number 14, street HIGH STREET.
"""
from __future__ import annotations

import re
from typing import NamedTuple

# Common Royal Mail thoroughfare abbreviations. "ST" at the start of a street name is SAINT.
_STREET_TYPES = {
    "ST": "STREET", "RD": "ROAD", "AVE": "AVENUE", "AV": "AVENUE", "LN": "LANE", "CL": "CLOSE",
    "CRES": "CRESCENT", "CRS": "CRESCENT", "DR": "DRIVE", "CT": "COURT", "GDNS": "GARDENS",
    "PL": "PLACE", "SQ": "SQUARE", "TER": "TERRACE", "TERR": "TERRACE", "PK": "PARK",
    "GR": "GROVE", "GRN": "GREEN", "HL": "HILL", "WY": "WAY", "PDE": "PARADE", "RDGE": "RIDGE",
    "BLVD": "BOULEVARD", "MWS": "MEWS", "EST": "ESTATE", "HO": "HOUSE", "APTS": "APARTMENTS",
}
_FLAT_WORDS = ("FLAT", "APARTMENT", "APT", "UNIT", "ROOM", "STUDIO", "MAISONETTE")
_FLAT_RE = re.compile(r"^([A-Z]{3,10})\s*([0-9]+[A-Z]?|[A-Z])\b")


def _flat_word(word: str) -> bool:
    """FLAT and the like, as typed: one slip of the keyboard away counts (FLT, FLLAT, FLST)."""
    from rapidfuzz.distance import OSA

    return word in _FLAT_WORDS or OSA.distance(word, "FLAT") <= 1
_EMBEDDED_NUMBER = re.compile(r"^(?P<name>[A-Z][A-Z ]*?)\s+(?P<num>[0-9]+[A-Z]?)\s+(?P<street>[A-Z].*)$")
_SLASH_RE = re.compile(r"^([0-9]+[A-Z]?)\s*/+\s*([0-9]+[A-Z]?)\b")
_GLUED = re.compile(r"(?<![A-Z0-9])([0-9]+)([A-Z]?)([A-Z]{3,})")
_NUMBER_RE = re.compile(r"^([0-9]+[A-Z]?)(?:\s*-\s*[0-9]+[A-Z]?)?\b")
_NON_WORD = re.compile(r"[^A-Z0-9/, ]+")
_SPACES = re.compile(r"\s+")


class ParsedAddress(NamedTuple):
    flat: str
    number: str
    house_name: str
    street: str
    locality: str
    town: str


def _unglue(m: re.Match[str]) -> str:
    # "13AWILSTEAD": a number typed against the street; keep a letter suffix only if the
    # rest still reads as a word of three letters or more.
    return f"{m[1]}{m[2]} {m[3]}" if m[2] and len(m[3]) >= 3 else f"{m[1]} {m[2]}{m[3]}"


def _clean(text: str | None) -> str:
    if not text:
        return ""
    s = text.upper().replace("'", "").replace("’", "")
    s = _GLUED.sub(_unglue, s)
    s = _NON_WORD.sub(" ", s.replace(",", " , "))
    return _SPACES.sub(" ", s).strip()


def _expand(words: list[str]) -> list[str]:
    out = []
    for i, w in enumerate(words):
        if w == "ST" and i == 0 and len(words) > 1:
            out.append("SAINT")
        else:
            out.append(_STREET_TYPES.get(w, w) if i > 0 else w)
    return out


def parse_address(line1: str | None, line2: str | None = None, town: str | None = None) -> ParsedAddress:
    """Split free-text address lines into parts; never raises."""
    parts = [p.strip() for p in _clean(line1).split(",") if p.strip()]
    line2_parts = [p.strip() for p in _clean(line2).split(",") if p.strip()]
    flat = number = house = ""
    street_words: list[str] = []
    rest: list[str] = []
    queue = parts + line2_parts
    while queue:
        part = queue.pop(0)
        if not flat and (m := _FLAT_RE.match(part)) and _flat_word(m[1]):
            flat = m[2]
            part = part[m.end():].strip()
            if not part:
                continue
        if not number and (m := _SLASH_RE.match(part)):
            flat, number = flat or m[1], m[2]
            part = part[m.end():].strip()
        elif not number and (m := _NUMBER_RE.match(part)):
            number = m[1]
            part = part[m.end():].strip()
        if not part:
            continue
        if not number and not street_words and (m := _EMBEDDED_NUMBER.match(part)):
            # "ROWAN PLACE 35 AMPTHILL STREET": a building name, a number, a street.
            house = house or m["name"]
            number = m["num"]
            part = m["street"]
        if not street_words and number:
            street_words = _expand(part.replace("/", " ").split())
        elif not street_words and not number and not house and queue:
            house = part
        elif not street_words:
            street_words = _expand(part.replace("/", " ").split())
        else:
            rest.append(part)
    return ParsedAddress(flat, number, house, " ".join(street_words), " ".join(rest), _clean(town))


def address_key(p: ParsedAddress) -> str:
    """A readable one-line form used for display and exact comparison."""
    bits = [f"FLAT {p.flat}" if p.flat else "", p.house_name, p.number, p.street, p.town]
    return " ".join(b for b in bits if b)
