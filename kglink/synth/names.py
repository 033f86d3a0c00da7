"""Choosing true names: community, sex and generation decide the lists.

The lists of namedata are the head of each community's names; a county style can add a
tail of invented names that grows with the county (more people, more distinct names), and
set how heavy the head is (the exponent of the Zipf-like weights).
"""
from __future__ import annotations

from itertools import accumulate
from random import Random
from typing import Sequence

from kglink.synth import namedata as nd

_CUM: dict[tuple[int, float], list[float]] = {}


def _cum_weights(n: int, zipf: float = 0.9) -> list[float]:
    """Zipf-like cumulative weights for a list of n names, cached by length and exponent."""
    key = (n, zipf)
    if key not in _CUM:
        _CUM[key] = list(accumulate(1.0 / (i + 1) ** zipf for i in range(n)))
    return _CUM[key]


def pick(rng: Random, names: Sequence[str], zipf: float = 0.9) -> str:
    return rng.choices(names, cum_weights=_cum_weights(len(names), zipf))[0]


def polish_form(surname: str, sex: str) -> str:
    """Polish surnames agree with sex: Kowalski (m), Kowalska (f)."""
    if sex == "F" and surname.endswith(("ski", "cki", "dzki")):
        return surname[:-1] + "a"
    return surname


def forename_list(community: str, sex: str, birth_year: int) -> list[str]:
    male, female = nd.FORENAMES[community]
    if birth_year < 1980 and community in nd.OLDER_FORENAMES:
        male, female = nd.OLDER_FORENAMES[community]
    return male if sex == "M" else female


def pick_forenames(rng: Random, community: str, sex: str, birth_year: int, *,
                   names: Sequence[str] | None = None, zipf: float = 0.9,
                   second: float = 0.38, hyphenated: float = 0.41) -> list[str]:
    """One or two given names, sometimes hyphenated as one (Anna-Maria).

    `second` and `hyphenated` are cumulative: below `second` two names, below `hyphenated`
    one hyphenated name, else one name.
    """
    names = names or forename_list(community, sex, birth_year)
    first = pick(rng, names, zipf)
    if community in ("pakistani", "bangladeshi") and sex == "M" and rng.random() < 0.45:
        # "Mohammed" as a first name with the name used day to day after it
        return ["Mohammed" if community == "bangladeshi" else rng.choice(("Mohammed", "Muhammad")),
                _other(rng, names, first, zipf)]
    r = rng.random()
    if r < second:
        return [first, _other(rng, names, first, zipf)]
    if r < hyphenated:
        return [f"{first}-{_other(rng, names, first, zipf)}"]
    return [first]


def _other(rng: Random, names: Sequence[str], not_this: str, zipf: float = 0.9) -> str:
    for _ in range(5):
        name = pick(rng, names, zipf)
        if name != not_this:
            return name
    return names[-1]


def pick_surname(rng: Random, community: str, sex: str = "M", *,
                 names: Sequence[str] | None = None, zipf: float = 0.9) -> str:
    name = pick(rng, names or nd.SURNAMES[community], zipf)
    return polish_form(name, sex) if community == "polish" else name


def personal_surname(rng: Random, community: str, sex: str, family: str) -> tuple[str, str]:
    """(surname used, alternative) where custom gives a person a name beside the family's.

    Sikh men and women are often recorded as Singh or Kaur with the family name elsewhere;
    some Bangladeshi and Pakistani women are recorded as Begum or Bibi.
    """
    if community == "indian" and family not in ("Patel", "Sharma", "Shah", "Mistry", "Kumar") \
            and rng.random() < 0.5:
        return ("Singh" if sex == "M" else "Kaur"), family
    if community in ("pakistani", "bangladeshi") and sex == "F" and rng.random() < 0.3:
        return rng.choice(("Begum", "Begum", "Bibi")), family
    return (polish_form(family, sex) if community == "polish" else family), ""


def ascii_fold(text: str) -> str:
    """Polish letters as an English keyboard types them."""
    return text.translate(_FOLD)


_FOLD = str.maketrans("łŁśŚąĄęĘćĆńŃóÓźŹżŻ", "lLsSaAeEcCnNoOzZzZ")


def nickname(rng: Random, name: str) -> str | None:
    options = nd.NICKNAMES.get(name)
    return rng.choice(options) if options else None


def variant(rng: Random, name: str) -> str | None:
    options = nd.VARIANTS.get(name)
    return rng.choice(options) if options else None


def email_for(rng: Random, forenames: list[str], surname: str, birth_year: int) -> str:
    first = ascii_fold(forenames[0]).lower().replace("-", "").replace("'", "")
    last = ascii_fold(surname).lower().replace(" ", "").replace("'", "").replace("-", "")
    style = rng.randrange(4)
    local = (f"{first}.{last}", f"{first}{last}{birth_year % 100:02d}", f"{first[0]}{last}",
             f"{last}.{first}{rng.randrange(1, 99)}")[style]
    return f"{local}@{rng.choice(('example.com', 'example.org', 'example.net'))}"
