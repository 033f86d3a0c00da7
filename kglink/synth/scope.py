"""A scope writes the records of one household or one scenario, in every agency.

It remembers which record each agency holds for each person of the scope, gives each
event a day of its own at each address (so "earlier" is never ambiguous), sends a PPN
after every police event with a child unless told not to, and on closing checks the
one query whose findings arise from ordinary life: domestic abuse where earlier events
at the address involved a child. Background findings are added to the truth; in a
scenario scope an unplanned finding is a bug and raises.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Sequence

from kglink.synth.model import Address, Person, age_on, at
from kglink.synth.render import fmt_date, fmt_dt, render_address, render_person
from kglink.synth.world import World
from kglink.synth.writer import Finding

CHILD_ROLES_DA = frozenset({"involved_child", "victim", "missing_person", "subject", "detained", "witness"})
PPN_ROLES = frozenset({"victim", "involved_child", "detained", "witness", "missing_person"})
NOTIFY_TYPES = frozenset({"crime", "incident", "domestic_abuse", "custody", "missing_episode"})
DA_QUERY = "domestic-abuse-prior-children"
_TEAMS = ("MASH", "Assessment Team North", "Assessment Team South", "Child Protection",
          "Children in Care", "Family Support")
_DUPLICATE_NOMINALS = 0.06


@dataclass(slots=True)
class _Site:
    address: Address
    when: datetime
    child: bool
    da: bool
    key: tuple[str, str]


class Scope:
    def __init__(self, world: World, background: bool = True) -> None:
        self.w = world
        self.rng = world.rng
        self.background = background
        self._people: dict[tuple[str, Person], list[str]] = {}
        self._addrs: dict[tuple[str, Address], str] = {}
        self._days: dict[Address, set[date]] = {}
        self._sites: list[_Site] = []
        self._declared: dict[tuple[str, str], str] = {}
        self._pairs: set[tuple[str, str, str, str]] = set()
        self._homes_on_file: set[tuple[Person, Address]] = set()     # scenario scopes only

    def is_child(self, p: Person) -> bool:
        return age_on(p.dob, self.w.ref) < 18

    # -- records -----------------------------------------------------------------
    def person(self, agency: str, p: Person, *, contact: bool = False, home: bool = True,
               dup: bool | None = None, extra_noise: float = 0.0, role: str = "") -> str:
        """This agency's record of p, made on first use (with p's home occupancy).

        `role` is the part p plays in the event that first brings p to this agency: the
        style may record a victim or witness with less than a subject.
        """
        recs = self._people.get((agency, p))
        if recs is None:
            recs = [self._new_person(agency, p, contact, home, extra_noise, role)]
            if dup or (dup is None and agency == "police" and self.rng.random() < _DUPLICATE_NOMINALS):
                recs.append(self._new_person(agency, p, contact, home, extra_noise + 0.15, role))
            self._people[(agency, p)] = recs
        return recs[0] if len(recs) == 1 else self.rng.choice(recs)

    def records(self, agency: str, p: Person) -> list[str]:
        return self._people.get((agency, p), [])

    def _new_person(self, agency: str, p: Person, contact: bool, home: bool, noise: float,
                    role: str = "") -> str:
        w = self.w
        style = w.writers[agency].style
        if style.nhs_rate and not p.nhs:
            p.nhs = w.nhs.next()       # given on first need: the 999 test range is finite
        row = render_person(self.rng, style, p, w.ref, contact=contact, extra_noise=noise, role=role)
        self._extras(agency, p, row)
        rid = w.writers[agency].person(row, w.person_tid(p))
        if home and p.home is not None and self._no_home_on_file(p, p.home, style.home_missing_for(contact, role)):
            home = False
        if home and p.home is not None:
            relation = p.home_relation
            if relation == "lives_at" and style.registered_share and self.rng.random() < style.registered_share:
                relation = "registered_at"
            self._occupy(agency, rid, p.home, relation, p.since, None)
            if not self.background:
                self._homes_on_file.add((p, p.home))
            if agency in ("police", "childrens_social_care") and self.rng.random() < 0.08 and p.since:
                old = w.county.new_home(self.rng)
                start = p.since - timedelta(days=self.rng.randrange(200, 2000))
                self._occupy(agency, rid, old, "lives_at", start, p.since - timedelta(days=1))
        return rid

    def _no_home_on_file(self, p: Person, home: Address, rate: float) -> bool:
        """Whether this record is made with no home on file.

        In a planted scenario only where another record of p already has this home: the
        truth takes a person's homes from all of that person's records, so it stays exactly
        as the scenario declares it, while a linker sees a record with no home.
        """
        if not rate or (not self.background and (p, home) not in self._homes_on_file):
            return False
        return self.rng.random() < rate

    def _extras(self, agency: str, p: Person, row: dict[str, str]) -> None:
        rng = self.rng
        if agency == "health":
            row["gp_practice"] = f"E8{rng.randrange(1000, 1100):04d}"
        elif agency == "visor":
            row["mappa_category"] = "1"
        elif agency == "nca" and rng.random() < 0.8:
            row["online_username"] = f"{p.forenames[0][:3].lower()}{rng.randrange(100, 9999)}"
        if agency in ("police", "nca", "education") and p.occupation and "occupation" not in row:
            if agency != "police" or rng.random() < 0.3:
                row["occupation"] = p.occupation
        if agency == "education" and p.upn:
            row["year_group"] = _year_group(p.dob, self.w.ref)

    def address(self, agency: str, a: Address) -> str:
        cache = self.w.shared_records if a.shared else self._addrs
        rid = cache.get((agency, a))
        if rid is None:
            w = self.w
            row = render_address(self.rng, w.writers[agency].style, a)
            rid = w.writers[agency].address(row, w.address_tid(a))
            cache[(agency, a)] = rid
        return rid

    def _occupy(self, agency: str, prid: str, a: Address, relation: str,
                start: date | None, end: date | None) -> None:
        style = self.w.writers[agency].style
        arid = self.address(agency, a)
        key = (prid, arid, relation, "")
        if key in self._pairs:
            return
        self._pairs.add(key)
        self.w.writers[agency].row("occupancies", [
            prid, arid, relation, fmt_date(style, start) if start else "",
            fmt_date(style, end) if end else ""])

    def occupy(self, agency: str, p: Person, a: Address, relation: str,
               start: date | None = None, end: date | None = None) -> None:
        for rid in self.records(agency, p) or [self.person(agency, p)]:
            self._occupy(agency, rid, a, relation, start, end)

    def relate(self, agency: str, a: Person, relation: str, b: Person,
               start: date | None = None) -> None:
        ra, rb = self.person(agency, a), self.person(agency, b)
        key = (ra, rb, relation, "r")
        if key in self._pairs:
            return
        self._pairs.add(key)
        style = self.w.writers[agency].style
        self.w.writers[agency].row("relationships", [ra, rb, relation,
                                                     fmt_date(style, start) if start else "", ""])

    def flag(self, agency: str, p: Person, flag: str, start: date | None = None,
             end: date | None = None, detail: str = "") -> None:
        style = self.w.writers[agency].style
        self.w.writers[agency].row("flags", [
            self.person(agency, p), flag, fmt_date(style, start) if start else "",
            fmt_date(style, end) if end else "", detail])

    # -- events ------------------------------------------------------------------
    def slot(self, places: Sequence[Address], when: datetime, tries: int = 30) -> datetime:
        """The first day from `when` on which none of these addresses has an event."""
        for _ in range(tries):
            d = when.date()
            if not any(d in self._days.get(a, ()) for a in places):
                return when
            when += timedelta(days=1)
        return when

    def event(self, agency: str, etype: str, when: datetime,
              people: Sequence[tuple[Person, str]], places: Sequence[tuple[Address, str]] = (), *,
              ended: datetime | None = None, status: str = "", risk: str = "", reference: str = "",
              description: str = "", attrs: dict[str, object] | None = None,
              date_only: bool = False, notify: bool = True, concern: str = "") -> str:
        w, rng = self.w, self.rng
        style = w.writers[agency].style
        row = {"type": etype, "occurred_at": fmt_dt(style, when, date_only),
               "ended_at": fmt_dt(style, ended, date_only) if ended else "", "risk": risk,
               "status": status, "reference": reference, "description": description,
               "attributes": json.dumps(attrs, separators=(",", ":")) if attrs else ""}
        if agency == "police":
            row["officer_id"] = f"{rng.randrange(1000, 9999)}"
        elif agency == "childrens_social_care":
            row["team"] = rng.choice(_TEAMS)
        elif agency == "marac":
            row["referring_agency"] = rng.choice(("Police", "IDVA service", "Health", "Housing"))
            row["idva"] = rng.choice(("Yes", "No", "Yes"))
        writer = w.writers[agency]
        rid = writer.event(row)
        seen: set[tuple[str, str]] = set()
        for p, role in people:
            prid = self.person(agency, p, role=role)
            if (prid, role) not in seen:
                seen.add((prid, role))
                writer.row("event_people", [rid, prid, role])
        child = any(role in CHILD_ROLES_DA and self.is_child(p) for p, role in people)
        for a, role in places:
            writer.row("event_addresses", [rid, self.address(agency, a), role])
            self._days.setdefault(a, set()).add(when.date())
            self._sites.append(_Site(a, when, child, etype == "domestic_abuse", (agency, rid)))
        if notify and agency == "police" and etype in NOTIFY_TYPES:
            kids = [p for p, role in people if role in PPN_ROLES and age_on(p.dob, when.date()) < 18]
            if kids:
                self.notify(list(dict.fromkeys(kids)), when, concern or etype.replace("_", " "))
        return rid

    def notify(self, kids: list[Person], when: datetime, concern: str,
               via_referral: bool | None = None) -> str:
        """A PPN (or, now and then, a social-care referral) naming these children, 1-3 days on."""
        rng = self.rng
        home = kids[0].home
        if via_referral is None:
            via_referral = rng.random() < 0.15 and home is not None
        if via_referral and home is not None:
            day = self.slot([home], at(when.date() + timedelta(days=1)), tries=4)
            if day.date() <= when.date() + timedelta(days=4):
                return self.event("childrens_social_care", "referral", day,
                                  [(k, "subject") for k in kids], [(home, "location")],
                                  date_only=True, status="closed", notify=False,
                                  description=f"Police notification: {concern}")
        # 20 to 72 hours on, but never after the extract was taken
        latest = max(when + timedelta(hours=2), self.w.ref_dt - timedelta(hours=1))
        t = min(when + timedelta(hours=rng.randrange(20, 72)), latest)
        rag = rng.choice(("amber", "amber", "green", "red"))
        return self.event("police", "ppn", t, [(k, "subject") for k in kids], (), risk=rag,
                          attrs={"rag": rag, "concern": concern}, notify=False)

    # -- truth -------------------------------------------------------------------
    def declare(self, finding: Finding) -> Finding:
        self.w.findings.append(finding)
        if finding.query == DA_QUERY:
            for key in finding.events:
                self._declared[key] = finding.expect
        return finding

    def close(self) -> None:
        """Check domestic abuse against earlier child events at the same address."""
        window = self.w.ref - timedelta(days=365)
        for site in self._sites:
            if not site.da:
                continue
            d = site.when.date()
            same_place = [s for s in self._sites if s.address is site.address and s.key != site.key]
            if any(s.child and s.when.date() == d for s in same_place):
                raise RuntimeError(f"ambiguous: a child event on the day of {site.key}")
            fires = d >= window and any(s.child and s.when.date() < d for s in same_place)
            declared = self._declared.get(site.key)
            if declared is None and fires:
                if not self.background:
                    raise RuntimeError(f"unplanned {DA_QUERY} finding {site.key}")
                self.w.findings.append(Finding(
                    DA_QUERY, "finding", "background", addresses=[(site.address, "location")],
                    events=[site.key], note="ordinary household: an earlier event here involved a child"))
            elif declared is not None and (declared == "finding") != fires:
                raise RuntimeError(f"{DA_QUERY} truth for {site.key} says {declared}")


def _year_group(dob: date, ref: date) -> str:
    school_year_start = ref.year if ref.month >= 9 else ref.year - 1
    age_at_sept = school_year_start - dob.year - ((9, 1) < (dob.month, dob.day))
    year = age_at_sept - 4
    return "R" if year <= 0 else str(year)
