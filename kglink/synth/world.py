"""Everything one generation run shares: the seed's random stream, the county, the
writers, the identifier allocators, the truth."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random

from kglink.synth import names as nm
from kglink.synth.county_style import KGLINK, CountyStyle
from kglink.synth.identifiers import NhsNumbers, Phones, PncIds, Upns
from kglink.synth.model import Address, Person, at
from kglink.synth.places import County
from kglink.synth.pools import NamePools
from kglink.synth.writer import ExtractWriter, Finding, TruthWriter


class World:
    def __init__(self, out_dir: Path, seed: int, households: int, reference_date: date,
                 style: CountyStyle = KGLINK) -> None:
        self.rng = Random(seed)
        self.seed = seed
        self.style = style
        # invented names come from their own stream, so the county's stream is the same
        # whatever the pools hold
        self.names = NamePools(style.names, households, Random(f"kglink-names:{seed}"))
        self.households = households
        self.ref = reference_date
        self.ref_dt = at(reference_date)
        self.out_dir = out_dir
        self.county = County(self.rng, households)
        self.truth = TruthWriter(out_dir / "truth")
        self.writers = {s.agency: ExtractWriter(out_dir, s, self.truth) for s in style.agencies}
        self.nhs = NhsNumbers(self.rng)
        self.pnc = PncIds(self.rng)
        self.phones = Phones()
        self.upns = Upns()
        self.findings: list[Finding] = []
        self.shared_records: dict[tuple[str, Address], str] = {}
        self.care_home_episodes: dict[Address, int] = {}
        self.hard_negatives: dict[str, int] = {}
        self._persons = 0
        self._addresses = 0

    # -- true ids ------------------------------------------------------------
    def person_tid(self, p: Person) -> str:
        if not p.tid:
            self._persons += 1
            p.tid = f"P{self._persons:07d}"
        return p.tid

    def address_tid(self, a: Address) -> str:
        if not a.tid:
            self._addresses += 1
            a.tid = f"A{self._addresses:07d}"
        return a.tid

    @property
    def true_persons(self) -> int:
        return self._persons

    @property
    def true_addresses(self) -> int:
        return self._addresses

    # -- making people -------------------------------------------------------
    def dob_for_age(self, age: int, *, not_near: int | None = None) -> date:
        """A date of birth giving `age` on the reference date."""
        rng = self.rng
        born = self.ref.replace(year=self.ref.year - age - 1) if self.ref.month != 2 or self.ref.day != 29 \
            else date(self.ref.year - age - 1, 2, 28)
        return born + timedelta(days=rng.randrange(1, 365))

    def person(self, community: str, sex: str, age: int, surname: str | None = None, *,
               forenames: list[str] | None = None, occupation: str = "") -> Person:
        rng = self.rng
        dob = self.dob_for_age(age)
        family = surname or self.names.surname(rng, community)
        used, alt = nm.personal_surname(rng, community, sex, family) if surname is None or \
            community == "polish" else (family, "")
        p = Person(forenames or self.names.pick_forenames(rng, community, sex, dob.year), used, sex, dob,
                   community, alt_surname=alt, occupation=occupation)
        if age >= 16 and rng.random() < 0.65:
            p.phone = self.phones.next()
        if age >= 18 and rng.random() < 0.5:
            p.email = nm.email_for(rng, p.forenames, p.surname, dob.year)
        if alt:
            p.alt_agency = rng.choice(("police", "health", "education", "childrens_social_care"))
        return p

    def marry(self, wife: Person, husband: Person) -> None:
        """She takes his surname; one agency still knows her by her maiden name."""
        if wife.community == "polish":
            new = nm.polish_form(husband.surname, "F")
        elif husband.surname in ("Singh",):
            new = "Kaur"
        else:
            new = husband.surname
        if new != wife.surname:
            wife.alt_surname, wife.surname = wife.surname, new
            wife.alt_agency = self.rng.choice(("police", "health", "education", "childrens_social_care",
                                               "marac"))

    def past(self, max_days: int, min_days: int = 8) -> datetime:
        """A time between max_days and min_days before the reference date."""
        rng = self.rng
        day = self.ref - timedelta(days=rng.randrange(min_days, max(min_days + 1, max_days)))
        return at(day, rng.randrange(0, 24), rng.randrange(0, 60))

    def pnc_for(self, p: Person, year: int) -> str:
        if not p.pnc:
            p.pnc = self.pnc.next(max(year, p.dob.year + 10))
        return p.pnc

    def close(self) -> dict[str, dict[str, int]]:
        counts = {agency: w.close(self.ref) for agency, w in self.writers.items()}
        self.truth.close()
        return counts
