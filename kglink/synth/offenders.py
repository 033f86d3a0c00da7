"""Registered sex offenders (ViSOR) and NCA referrals, for background and scenarios."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from kglink.synth.model import Household, Person, age_on, at
from kglink.synth.scope import Scope
from kglink.synth.writer import Finding

AREA_QUERY = "sex-offenders-by-area"
_NON_TRUST = ("warehouse operative", "delivery driver", "IT consultant", "unemployed", "chef",
              "labourer", "self-employed", "retail assistant", "engineer", "taxi driver")


def rso(s: Scope, p: Person, *, level: str = "medium", children: bool = True,
        reactive: bool = False, shpo: bool = False, ended: date | None = None,
        visits: int = 3, police: bool = True, home_visit_days: int | None = None) -> date | None:
    """Register p on ViSOR at p's home; returns the date of the last home visit."""
    w, rng = s.w, s.rng
    home = p.home
    assert home is not None
    registered = w.ref - timedelta(days=rng.randrange(400, 4000))
    if ended is not None:
        registered = ended - timedelta(days=rng.randrange(1000, 3000))
    w.pnc_for(p, registered.year - 1)
    s.person("visor", p, home=False)
    s.occupy("visor", p, home, "registered_at", start=max(registered, p.since or registered))
    against = "yes" if children else "no"
    s.flag("visor", p, "registered_sex_offender", registered, ended,
           f"risk: {level}; offences against children: {against}")
    if shpo:
        s.flag("visor", p, "shpo", registered, ended, "SHPO: no unsupervised contact with under-18s")
    if reactive:
        s.flag("visor", p, "reactive_management", registered + timedelta(days=rng.randrange(30, 300)),
               ended)
    last_home = _visits(s, p, visits, reactive, home_visit_days)
    if police:
        s.person("police", p)
    return last_home


def _visits(s: Scope, p: Person, n: int, reactive: bool, home_days: int | None) -> date | None:
    w, rng = s.w, s.rng
    assert p.home is not None
    last: date | None = None
    for i in range(n):
        home_visit = (rng.random() < (0.3 if reactive else 0.8)) if home_days is None else i == 0
        days = home_days if home_visit and home_days is not None else rng.randrange(15, 700)
        when = at(w.ref - timedelta(days=days), rng.randrange(9, 17), rng.choice((0, 15, 30, 45)))
        kind = "home" if home_visit else "remote"
        s.event("visor", "rso_visit", when, [(p, "subject")],
                [(p.home, "location")] if home_visit else [], attrs={"visit_type": kind},
                status="completed", description=f"{kind} visit, ARMS review")
        if home_visit and (last is None or when.date() > last):
            last = when.date()
    return last


def breach(s: Scope, p: Person, days_ago: int, *, agency: str = "visor", role: str = "subject",
           what: str = "failed to notify change of address") -> str:
    w, rng = s.w, s.rng
    when = at(w.ref - timedelta(days=days_ago), rng.randrange(8, 20))
    return s.event(agency, "breach", when, [(p, role)], status="recorded", description=what,
                   reference=f"BR{rng.randrange(10**5):05d}")


def declare_area(s: Scope, p: Person, last_home: date | None, scenario: str,
                 expect: str = "finding") -> None:
    assert p.home is not None
    visit = last_home.isoformat() if last_home else "none"
    s.declare(Finding(AREA_QUERY, expect, scenario, people=[(p, "subject")],
                      addresses=[(p.home, "home")],
                      note=f"district={p.home.district}; last_home_visit={visit}"))


def background_rso(s: Scope, hh: Household) -> None:
    """An offender living alone or with an adult partner, with no child contact."""
    rng = s.rng
    p = next(m for m in hh.members if m.sex == "M")
    p.occupation = rng.choice(_NON_TRUST)
    if rng.random() < 0.5:
        p.aliases.append((rng.choice(("Danny", "Lee", "Jay", "Mark", "Tony")), p.surname))
    level = rng.choice(("low", "low", "medium", "medium", "high", "very high"))
    reactive = level == "low" and rng.random() < 0.7
    last = rso(s, p, level=level, children=rng.random() < 0.6, reactive=reactive,
               shpo=rng.random() < 0.3, visits=rng.randrange(1, 5))
    if rng.random() < 0.12:   # an old breach for the reactive, any for the others
        breach(s, p, rng.randrange(420, 1500) if reactive else rng.randrange(20, 1200))
    declare_area(s, p, last, "background")


def nca_referral(s: Scope, p: Person, when: datetime, *, images: int, category: str = "C") -> str:
    return s.event("nca", "nca_referral", when, [(p, "subject")],
                   [(p.home, "location")] if p.home is not None else [],
                   reference=f"NCA-{when.year}-{s.rng.randrange(10**5):05d}", status="disseminated",
                   attrs={"images_count": images, "category": category},
                   description="CSAM upload detected; subscriber details obtained")


def background_nca(s: Scope, hh: Household) -> None:
    """An NCA subject living alone in a job with no contact with children."""
    rng = s.rng
    p = hh.members[0]
    if age_on(p.dob, s.w.ref) < 20:
        return
    p.occupation = rng.choice(_NON_TRUST)
    nca_referral(s, p, s.w.past(700), images=rng.randrange(1, 400), category=rng.choice("ABC"))
