"""A county's name pools: namedata's lists, and a tail of invented names that grows with it.

In a real county the number of distinct surnames keeps growing with its population: a
larger county is not the same few hundred names reused more often. A style with growth
adds, per community, size * scale * (households / 1000) ** growth invented names after
the real ones; the Zipf-like weights make them the rare tail. Invented names are built
from the community's own names (the head of one and the tail of another) and, for
English surnames, from place-name elements, so they look like names of that community.
"""
from __future__ import annotations

from random import Random

from kglink.synth import namedata as nd
from kglink.synth import names as nm
from kglink.synth.county_style import NameStyle

_VOWELS = frozenset("aeiouAEIOU")
_EN_STEMS = """Ash Brad Brook Cal Chad Craw Dal Fair Hart Hay Kings Lang Mar Mid North Pen Ray Red
Shel Stan Thorn Wal Wester Whit Wig Win Ald Bram Bur Car Coll Dun Fen Gar Grim Hal Holl Lud
Mor Nor Pad Pres Ros Saw Sher Stap Tal Up Wen Yar Bex Cris Dor Elm Fos Glad Hemp Ick Kel Lock
Mel Net Oak Pil Quen Rad Sel Tid Ux Ver Wick Yat""".split()
_EN_ENDS = """ley ton worth field ford wood well by ham son man ridge combe more bury cott dale hurst
stone wick er ing low stead gate land""".split()


def _halves(name: str) -> tuple[str, str] | None:
    """Cut a name after a vowel, before a consonant, near its middle."""
    if not name.isalpha() or len(name) < 4:
        return None
    mid = len(name) // 2
    for i in [*range(max(2, mid), len(name) - 1), *range(mid - 1, 1, -1)]:
        if name[i - 1] in _VOWELS and name[i] not in _VOWELS:
            return name[:i], name[i:]
    return None


def invent(rng: Random, names: list[str], n: int, english: bool = False) -> list[str]:
    """n new names in the manner of `names`, none of them in it."""
    seen = set(names)
    cuts = [h for h in map(_halves, names) if h]
    out: list[str] = []
    for _ in range(n * 20):
        if len(out) >= n:
            break
        if english and rng.random() < 0.6:
            name = rng.choice(_EN_STEMS) + rng.choice(_EN_ENDS)
        elif len(cuts) >= 2:
            name = rng.choice(cuts)[0] + rng.choice(cuts)[1].lower()
        else:
            break
        if name not in seen and 4 <= len(name) <= 13:
            seen.add(name)
            out.append(name)
    return out


class NamePools:
    """Surnames and forenames of each community, as one county's style has them."""

    def __init__(self, style: NameStyle, households: int, rng: Random) -> None:
        self.style = style
        self.surnames: dict[str, list[str]] = {}
        self.forenames: dict[tuple[str, str, bool], list[str]] = {}
        scale = households / 1000
        for community in nd.COMMUNITIES:
            base = nd.SURNAMES[community]
            extra = round(len(base) * style.surname_scale * scale ** style.surname_growth)
            self.surnames[community] = base + invent(rng, base, extra, community == "white_british") \
                if extra else base
            for older in (False, True):
                for sex in "MF":
                    names = nm.forename_list(community, sex, 1970 if older else 2000)
                    extra = round(len(names) * style.forename_scale * scale ** style.forename_growth)
                    self.forenames[(community, sex, older)] = names + invent(rng, names, extra) \
                        if extra else names

    def surname(self, rng: Random, community: str, sex: str = "M") -> str:
        return nm.pick_surname(rng, community, sex, names=self.surnames[community],
                               zipf=self.style.surname_zipf)

    def pick_forenames(self, rng: Random, community: str, sex: str, birth_year: int) -> list[str]:
        s = self.style
        return nm.pick_forenames(rng, community, sex, birth_year,
                                 names=self.forenames[(community, sex, birth_year < 1980)],
                                 zipf=s.forename_zipf, second=s.second_forename, hyphenated=s.hyphenated)
