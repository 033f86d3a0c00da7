"""Personal names: cleaning for storage, and the keys and comparisons linkage uses."""
from __future__ import annotations

import re
import unicodedata
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


def clean_name(text: str | None) -> str:
    """Upper-case ASCII letters, single spaces, hyphens kept; apostrophes dropped.

    `  o'Brien ` -> `OBRIEN`; `Zoë  Smith-Jones` -> `ZOE SMITH-JONES`;
    `Małgorzata` -> `MALGORZATA`. Idempotent.
    """
    if not text:
        return ""
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


# --- linkage half: keys and equivalences -------------------------------------------

_nicknamer = None


def _namer():  # type: ignore[no-untyped-def]
    global _nicknamer
    if _nicknamer is None:
        from nicknames import NickNamer  # a maintained, hand-curated English nickname list

        _nicknamer = NickNamer()
    return _nicknamer


def nickname_keys(forename: str) -> frozenset[str]:
    """The name itself and every formal name it is a nickname of: JON -> {JON, JONATHAN, JOHN, ...}.

    Two forenames are nickname-equivalent when their key sets meet.
    """
    if not forename:
        return frozenset()
    low = forename.lower()
    namer = _namer()
    keys = {low} | namer.canonicals_of(low)
    if namer.nicknames_of(low):        # a formal name is its own canonical
        keys.add(low)
    return frozenset(k.upper() for k in keys)


def initial_fits(initial: str, name: str) -> bool:
    """Could an initial stand for this first name, or for the formal name it is a nickname
    of? (E for LIZ: Elizabeth; W for BILL: William.)"""
    if not initial or not name:
        return False
    return name[0] == initial[0] or any(k[:1] == initial[0] for k in nickname_keys(name))


def phonetic(text: str) -> str:
    """Double-metaphone-like key (jellyfish metaphone) of the first word; "" for none."""
    if not text:
        return ""
    import jellyfish

    word = text.split(" ")[0].replace("-", "")
    return jellyfish.metaphone(word) if word else ""
