"""Personal names as linkage compares them: nickname keys, initials, phonetic keys.

Cleaning for storage is kglink/standardise/names.py."""
from __future__ import annotations

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
