"""Personal names as linkage compares them: nickname keys, initials, phonetic keys.

Cleaning for storage is kglink/standardise/names.py."""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

_nicknamer = None


def _namer():  # type: ignore[no-untyped-def]
    global _nicknamer
    if _nicknamer is None:
        from nicknames import NickNamer  # a maintained, hand-curated English nickname list

        _nicknamer = NickNamer()
    return _nicknamer


@lru_cache(maxsize=1 << 16)     # bounded: a long-lived process reads many workspaces' names
def nickname_keys(forename: str) -> frozenset[str]:
    """The name itself and every formal name it is a nickname of: JON -> {JON, JONATHAN, JOHN, ...},
    and the list's other spellings of each (_spellings: MANNY, a nickname of EMANUEL, is
    EMMANUEL's too).

    Two forenames are nickname-equivalent when their key sets meet.
    """
    if not forename:
        return frozenset()
    low = forename.lower()
    namer = _namer()
    keys = {k.upper() for k in {low} | namer.canonicals_of(low)}
    spellings = _spellings()
    return frozenset(keys.union(*(spellings.get(k, ()) for k in keys)))


# The list's names of this many letters or more that are one edit apart (Damerau: a letter
# added, dropped, changed or two swapped), begin alike and sound alike (one phonetic key)
# are spellings of one name: EMANUEL, EMMANUEL; LAURENCE, LAWRENCE; KIMBERLY, KIMBERLEY;
# JONATHAN, JONATHON. Shorter ones are too often two names (MILLIE and MOLLIE, BENNIE and
# BERNIE), and so are longer ones that sound different (RACHAEL and RAPHAEL, CORDELIA and
# CORNELIA).
SPELLING_MIN_LENGTH = 7


@lru_cache(maxsize=1)
def _spellings() -> dict[str, frozenset[str]]:
    """Each listed name's other spellings in the list (SPELLING_MIN_LENGTH)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    names = sorted(w for w in _vocabulary() if len(w) >= SPELLING_MIN_LENGTH)
    near = process.cdist(names, names, scorer=OSA.distance, score_cutoff=1, workers=1) <= 1
    out: dict[str, set[str]] = {}
    for i, j in zip(*near.nonzero()):
        a, b = names[i], names[j]
        if i != j and a[0] == b[0] and phonetic(a) == phonetic(b):
            out.setdefault(a, set()).add(b)
    return {k: frozenset(v) for k, v in out.items()}


def initial_fits(initial: str, name: str) -> bool:
    """Could an initial stand for this first name, or for the formal name it is a nickname
    of? (E for LIZ: Elizabeth; W for BILL: William.)"""
    if not initial or not name:
        return False
    return name[0] == initial[0] or any(k[:1] == initial[0] for k in nickname_keys(name))


# A short form made by cutting a name (SEUN of OLUWASEUN, LOTTE of CHARLOTTE, ALEXA of
# ALEXANDRA): nicknames no list holds, made so in every language. The part kept is at
# least SHORT_FORM_MIN letters (shorter ends are too often other names: AL, JO, ANN), and
# at least SHORT_FORM_CUT letters are cut.
SHORT_FORM_MIN = 4
SHORT_FORM_CUT = 2


def short_form(short: str, name: str) -> bool:
    """Is `short` the start or the end of `name`, cut as SHORT_FORM_MIN/CUT say?"""
    return len(short) >= SHORT_FORM_MIN and len(name) - len(short) >= SHORT_FORM_CUT and (
        name.startswith(short) or name.endswith(short))


def phonetic(text: str) -> str:
    """Double-metaphone-like key (jellyfish metaphone) of the first word; "" for none."""
    if not text:
        return ""
    import jellyfish

    word = text.split(" ")[0].replace("-", "")
    return jellyfish.metaphone(word) if word else ""


# A first name at least this many times rarer than a listed name one edit away from it is
# read as a slip of that name (a spelling corrector's prior: slips are rare, names common).
SLIP_RARITY = 10
SLIP_MIN_LENGTH = 4     # shorter names are too close to each other to tell slips from names


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    namer = _namer()
    return frozenset(k.upper() for k in (*namer.nickname_lookup, *namer.canonical_lookup))


def _rarer(slip: float, name: float) -> bool:
    """SLIP_RARITY times rarer or more; counts or shares alike (a share's rounding aside)."""
    return slip * SLIP_RARITY <= name * (1 + 1e-9)


def slip_keys(counts: Mapping[str, float]) -> dict[str, frozenset[str]]:
    """First names read as misspelt listed names, with the nickname keys of the name each
    slips from: ROCHARD (once) -> RICHARD's keys, so ROCHARD and RICH are a nickname pair.

    `counts` says how many records hold each first name (or its share of them) in the
    table being linked, or in the one a saved model was fitted on. A name is
    a slip of a listed name one edit away (Damerau: one letter added, dropped, changed or
    two swapped) only when it is not itself listed, is SLIP_MIN_LENGTH letters or longer,
    and is SLIP_RARITY times rarer than that name here. HOLLY and MOLLY, GEMMA and EMMA,
    SEAN and JEAN are each common: names, not slips."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    if not counts:
        return {}
    vocab = _vocabulary()
    lowest = min(counts.values())
    common = [v for v in vocab if _rarer(lowest, counts.get(v, 0))]
    top = max((counts[v] for v in common), default=0)
    rare = [w for w, c in counts.items()
            if w not in vocab and len(w) >= SLIP_MIN_LENGTH and _rarer(c, top)]
    if not common or not rare:
        return {}
    dist = process.cdist(rare, common, scorer=OSA.distance, score_cutoff=1, workers=-1)
    out: dict[str, frozenset[str]] = {}
    for r, c in zip(*(dist <= 1).nonzero()):
        w, v = rare[r], common[c]
        if _rarer(counts[w], counts[v]):
            out[w] = out.get(w, frozenset()) | nickname_keys(v)
    return out
