"""Personal names cleaned for storage: forenames and surname, titles dropped, aliases split.

The keys and equivalences linkage compares names by are in kglink/linkage/fields/name.py."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

_APOSTROPHES = re.compile(r"[’'`´]")
_NOT_NAME = re.compile(r"[^A-Z\- ]+")
_SPACES = re.compile(r"\s+")
_HYPHEN_SPACES = re.compile(r"\s*-\s*")
_TITLES = frozenset(
    "MR MRS MS MISS DR MX REV SIR DAME PROF MASTER".split()
)


class Name(NamedTuple):
    forenames: str  # cleaned, space separated, "" when not known
    surname: str


# Letters that Unicode does not decompose into a base letter and an accent.
_TRANSLITERATE = str.maketrans({
    "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
    "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "TH", "þ": "th",
    "ı": "i", "Ŀ": "L", "ŀ": "l",
})


@lru_cache(maxsize=1 << 16)
def clean_name(text: str | None) -> str:
    """Upper-case ASCII letters, single spaces, hyphens kept; apostrophes dropped.

    `  o'Brien ` -> `OBRIEN`; `Zoë  Smith-Jones` -> `ZOE SMITH-JONES`;
    `Małgorzata` -> `MALGORZATA`. Idempotent. Kept per distinct text: a million person
    rows hold some tens of thousands of names (a load cleaned each one again, ~12 µs).
    """
    if not text:
        return ""
    if text.isascii():          # nothing to transliterate, decompose or strip of accents
        s = text.upper()
    else:
        s = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
        s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    s = _APOSTROPHES.sub("", s)
    s = _NOT_NAME.sub(" ", s)
    s = _HYPHEN_SPACES.sub("-", s)
    s = _SPACES.sub(" ", s).strip(" -")
    return s


def clean_forenames(text: str | None) -> str:
    """Forenames without titles: `Mr. J.` -> `J`."""
    parts = [p for p in clean_name(text).split(" ") if p and p not in _TITLES]
    return " ".join(parts)


def split_person_name(forenames: str | None, surname: str | None) -> Name:
    """Clean a (forenames, surname) pair, reading `SURNAME, Forenames` written in one field.

    Some systems put the whole name in the surname column as `SMITH, Jon`; some put
    `Jon SMITH` in forenames with the surname empty.
    """
    fore, sur = forenames or "", surname or ""
    if "," in sur and not fore.strip():
        sur, _, fore = sur.partition(",")
    elif "," in fore and not sur.strip():
        sur, _, fore = fore.partition(",")
    return Name(clean_forenames(fore), clean_name(sur))


def parse_alias(text: str) -> Name | None:
    """An alias is "forenames surname" (or `SURNAME, Forenames`); the last word is the surname."""
    raw = text.strip()
    if not raw:
        return None
    if "," in raw:
        sur, _, fore = raw.partition(",")
        name = Name(clean_forenames(fore), clean_name(sur))
    else:
        words = clean_name(raw).split(" ")
        name = Name(clean_forenames(" ".join(words[:-1])), words[-1])
    return name if name.surname else None


def split_aliases(text: str | None) -> list[Name]:
    """`|` separated aliases, each cleaned; empty and unreadable ones skipped."""
    if not text:
        return []
    out: list[Name] = []
    for part in text.split("|"):
        alias = parse_alias(part)
        if alias is not None and alias not in out:
            out.append(alias)
    return out
