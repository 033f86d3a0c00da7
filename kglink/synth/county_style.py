"""A county's style: how its agencies record people, its households and its names.

The "kglink" style is the county kglink has always generated. The "varied" style draws
every parameter from the seed within realistic ranges, so that seed 1 and seed 2 give two
counties shaped unlike each other and unlike the kglink one: which agency records dates
of birth, which records homes, household shapes, how common surnames are, how the name
pools grow with the county, noise, record ids and date formats. Linkage measured on such
counties says how it does on data it was not built on.

A style is a value: drawn once, before the county, from its own random stream (the
county's stream is untouched by the draw), and written to truth/meta.json.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from random import Random
from typing import Any

from kglink.synth.styles import STYLES, AgencyStyle, NoiseMix

STYLE_NAMES = ("kglink", "varied")

# shape, share of households, share of them in flats
SHAPES: tuple[tuple[str, float, float], ...] = (
    ("alone", 0.265, 0.45), ("couple", 0.13, 0.25), ("older_couple", 0.12, 0.08),
    ("family", 0.22, 0.1), ("single_parent", 0.09, 0.35), ("blended", 0.045, 0.15),
    ("house_share", 0.04, 0.3), ("multigen", 0.03, 0.02), ("adult_children", 0.03, 0.05),
    ("father_son", 0.008, 0.05), ("foster", 0.006, 0.0), ("child_in_care", 0.006, 0.4),
)


@dataclass(frozen=True)
class HouseholdStyle:
    shapes: tuple[tuple[str, float, float], ...] = SHAPES
    twins: float = 0.02               # chance that the next child is a twin of the last
    namesake_son: float = 0.0         # a son given his father's first forename
    double_barrel: float = 0.15       # children of an unmarried couple given both surnames
    married: float = 1.0              # times the usual share of couples married (she takes his name)


@dataclass(frozen=True)
class NameStyle:
    surname_zipf: float = 0.9         # exponent of the Zipf-like weights: higher, a heavier head
    forename_zipf: float = 0.9
    surname_growth: float = 0.0       # invented surnames per community: size * scale * (households/1000) ** growth
    surname_scale: float = 0.0
    forename_growth: float = 0.0
    forename_scale: float = 0.0
    second_forename: float = 0.38     # share of people with a second forename
    hyphenated: float = 0.41          # ... plus the share with one hyphenated forename (cumulative)


@dataclass(frozen=True)
class CountyStyle:
    name: str
    seed: int | None                  # the seed the style was drawn from (None: fixed style)
    agencies: tuple[AgencyStyle, ...]
    households: HouseholdStyle = field(default_factory=HouseholdStyle)
    names: NameStyle = field(default_factory=NameStyle)

    def agency(self, agency: str) -> AgencyStyle:
        return next(a for a in self.agencies if a.agency == agency)

    def to_json(self) -> dict[str, Any]:
        """The style as truth/meta.json records it."""
        agencies = {}
        for a in self.agencies:
            d = asdict(a)
            for k in ("agency", "system", "extracted_time", "person_columns", "event_extra"):
                del d[k]
            agencies[a.agency] = d
        hh = asdict(self.households)
        hh["shapes"] = {s: round(w, 4) for s, w, _ in self.households.shapes}
        return {"name": self.name, "seed": self.seed, "agencies": agencies,
                "households": hh, "names": asdict(self.names)}


    def summary(self) -> str:
        """A few lines on what sets this style apart, for benchmark output and reports."""
        if self.seed is None:
            return self.name
        ags = self.agencies

        def per(attr: str) -> str:
            return ", ".join(f"{a.agency} {getattr(a, attr) or 0:.2f}" for a in ags
                             if getattr(a, attr) and getattr(a, attr) > 0.005)
        total = sum(w for _, w, _ in self.households.shapes)
        shapes = ", ".join(f"{s} {w / total:.3f}" for s, w, _ in self.households.shapes)
        hh, nm, edu = self.households, self.names, self.agency("education")
        return "\n".join([
            f"{self.name} (seed {self.seed})",
            f"  adult dob missing: {per('dob_missing')}",
            f"  victim/witness/suspect dob missing: {per('party_dob_missing')}",
            f"  pupils' contacts in education: dob missing {edu.contact_dob_missing:.2f}, "
            f"no home on file {edu.contact_home_missing:.2f}",
            f"  no home on file: {per('home_missing')}; victims/witnesses/suspects: "
            f"{per('party_home_missing')}",
            f"  homes as registered_at: {per('registered_share') or 'none'}",
            f"  base noise: {per('noise')}",
            f"  day-first dates: {', '.join(a.agency + ' ' + repr(a.date_sep) for a in ags if a.uk_dates)}",
            f"  households: {shapes}; twins {hh.twins}, son named as father {hh.namesake_son}, "
            f"double-barrelled children {hh.double_barrel}, married x{hh.married}",
            f"  names: surname Zipf {nm.surname_zipf}, forename Zipf {nm.forename_zipf}, invented surnames "
            f"{nm.surname_scale} x (households/1000)^{nm.surname_growth} x list size, forenames "
            f"{nm.forename_scale} x (households/1000)^{nm.forename_growth}, second forename {nm.second_forename}",
        ])


KGLINK = CountyStyle("kglink", None, tuple(STYLES.values()))


def style_for(name: str, seed: int) -> CountyStyle:
    if name == "kglink":
        return KGLINK
    if name == "varied":
        return varied(seed)
    raise ValueError(f"unknown style {name!r}; expected one of {', '.join(STYLE_NAMES)}")


# -- the varied family ---------------------------------------------------------------------
def varied(seed: int) -> CountyStyle:
    """Every parameter drawn from the seed (its own stream: the county's is untouched)."""
    rng = Random(f"kglink-style-varied:{seed}")
    agencies = tuple(_agency(rng, s) for s in STYLES.values())
    return CountyStyle("varied", seed, agencies, _households(rng), _names(rng))


def _u(rng: Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 3)


def _mix(rng: Random) -> NoiseMix:
    def u(lo: float, hi: float) -> float:
        return _u(rng, lo, hi)
    nickname, variant, initials = u(0.1, 1.6), u(0.1, 0.8), u(0.0, 0.3)
    swap, shift, year = u(0.05, 0.5), u(0.05, 0.5), u(0.0, 0.15)
    return NoiseMix(nickname=nickname, variant_upto=round(nickname + variant, 3),
                    initials_upto=round(nickname + variant + initials, 3),
                    forename_typo=u(0.2, 1.2), surname_variant=u(0.1, 0.8), surname_typo=u(0.2, 1.2),
                    dob_swap=swap, dob_shift_upto=round(swap + shift, 3),
                    dob_year_upto=round(swap + shift + year, 3), swap_names=u(0.0, 0.1))


# Per agency: ranges of (noise, dob_missing, party_dob_missing, contact_dob_missing,
# home_missing, party_home_missing, contact_home_missing, registered_share).
# Children always keep their date of birth (render_dob), and in planted scenarios a record
# goes without a home only where another record of the person has it (Scope), so no range
# here can change what a risk query must find on true identities.
_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "police": ((0.06, 0.16), (0.0, 0.12), (0.02, 0.4), (0.5, 1.0), (0.0, 0.1), (0.05, 0.35),
               (0.0, 0.3), (0.0, 0.0)),
    "childrens_social_care": ((0.03, 0.1), (0.0, 0.1), (0.0, 0.2), (0.3, 0.9), (0.0, 0.1), (0.0, 0.3),
                              (0.0, 0.3), (0.0, 0.2)),
    "education": ((0.04, 0.12), (0.0, 0.1), (0.0, 0.3), (0.4, 1.0), (0.0, 0.05), (0.0, 0.2),
                  (0.0, 0.35), (0.0, 0.0)),
    "health": ((0.02, 0.07), (0.0, 0.02), (0.0, 0.05), (0.2, 0.8), (0.0, 0.05), (0.0, 0.1),
               (0.0, 0.2), (0.0, 0.9)),
    "visor": ((0.02, 0.08), (0.0, 0.0), (0.0, 0.0), (0.5, 1.0), (0.0, 0.0), (0.0, 0.0),
              (0.0, 0.0), (0.0, 0.0)),
    "marac": ((0.06, 0.16), (0.1, 0.8), (0.1, 0.8), (0.5, 1.0), (0.0, 0.2), (0.0, 0.6),
              (0.0, 0.3), (0.0, 0.0)),
    "nca": ((0.03, 0.1), (0.02, 0.3), (0.02, 0.3), (0.5, 1.0), (0.0, 0.2), (0.0, 0.2),
            (0.0, 0.2), (0.0, 0.0)),
}
_PREFIXES = ("P", "PER", "N", "NOM", "ID", "R", "C", "")
_ADDR_PREFIXES = ("A", "ADR", "LOC", "L", "AD", "PR")
_EVENT_PREFIXES = ("E", "EV", "OCC", "INC", "CASE", "REF")


def _agency(rng: Random, base: AgencyStyle) -> AgencyStyle:
    (noise, dob, party_dob, contact_dob, home, party_home, contact_home,
     registered) = (_u(rng, lo, hi) for lo, hi in _RANGES[base.agency])
    uk = rng.random() < 0.5
    ids = (rng.choice(_PREFIXES), rng.choice(_ADDR_PREFIXES), rng.choice(_EVENT_PREFIXES))
    own = _mix(rng)                             # each agency errs in its own way
    return replace(
        base, uk_dates=uk, date_sep=rng.choice(("/", "/", "-", ".")) if uk else "/",
        ids=ids, id_width=rng.choice((0, 5, 6, 7, 8)), id_sep=rng.choice(("", "", "-")),
        noise=noise, dob_missing=dob, party_dob_missing=party_dob, contact_dob_missing=contact_dob,
        home_missing=home, party_home_missing=party_home, contact_home_missing=contact_home,
        registered_share=registered, mix=own,
        surname_upper=base.surname_upper if base.all_upper else _u(rng, 0.0, 0.9),
        comma_names=0.0 if base.all_upper else _u(rng, 0.0, 0.3),
        fold_accents=_u(rng, 0.2, 0.9))


def _households(rng: Random) -> HouseholdStyle:
    shapes = tuple((s, round(w * rng.lognormvariate(0.0, 0.45), 4), flats) for s, w, flats in SHAPES)
    return HouseholdStyle(shapes=shapes, twins=_u(rng, 0.005, 0.05), namesake_son=_u(rng, 0.0, 0.08),
                          double_barrel=_u(rng, 0.02, 0.35), married=_u(rng, 0.6, 1.4))


def _names(rng: Random) -> NameStyle:
    second = _u(rng, 0.15, 0.5)
    return NameStyle(second_forename=second, hyphenated=round(second + _u(rng, 0.0, 0.06), 3),
                     surname_zipf=_u(rng, 0.6, 1.25), forename_zipf=_u(rng, 0.7, 1.1),
                     surname_growth=_u(rng, 0.4, 0.8), surname_scale=_u(rng, 0.2, 1.0),
                     forename_growth=_u(rng, 0.2, 0.5), forename_scale=_u(rng, 0.05, 0.4))
