"""Scenarios: domestic abuse after child events, custody delays, lapsed police
protection, and events with a child and no PPN."""
from __future__ import annotations

from datetime import datetime, timedelta

from kglink.synth.model import Household, Person
from kglink.synth.scenarios.common import (days_ago, enrol, finding, home_of, lone_adult,
                                           mother_and_children, move_in, scope)
from kglink.synth.scope import Scope
from kglink.synth.world import World

DA = "domestic-abuse-prior-children"
CUSTODY = "custody-appropriate-adult-delay"
PROTECTION = "police-protection-lapsed"
PPN = "missing-ppn"


def _da(s: Scope, hh: Household, victim: Person, perp: Person, days: int,
        kids: list[Person] | None = None, notify: bool = True) -> str:
    people = [(victim, "victim"), (perp, "perpetrator")] + [(k, "witness") for k in kids or []]
    return s.event("police", "domestic_abuse", days_ago(s.w, days, 23, 20), people,
                   [(hh.home, "location")], risk="medium", status="crimed", notify=notify,
                   reference=f"40/{s.rng.randrange(10000, 99999)}/26",
                   description="Partner assaulted victim during argument; DASH medium")


def _couple_with_children(w: World, ages: list[int]) -> tuple[Household, Person, Person, list[Person]]:
    hh, mother, kids = mother_and_children(w, ages)
    partner = w.person("white_british", "M", 38)
    move_in(hh, partner, hh.since)
    return hh, mother, partner, kids


# -- domestic-abuse-prior-children --------------------------------------------------
def da_after_education_referral(w: World) -> None:
    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [8, 12])
    enrol(s, hh, kids, [mother])
    s.event("education", "referral", days_ago(w, 700), [(kids[1], "subject")], [(hh.home, "location")],
            date_only=True, status="submitted", description="Disclosure to class teacher")
    rid = _da(s, hh, mother, partner, 120)
    finding(s, DA, "finding", "prior-education-referral", events=[("police", rid)],
            addresses=[(hh.home, "location")], people=[(kids[1], "child")])
    s.close()


def da_after_missing_episode(w: World) -> None:
    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [14])
    t = days_ago(w, 420, 19)
    s.event("police", "missing_episode", t, [(kids[0], "missing_person")], [(hh.home, "missing_from")],
            ended=t + timedelta(hours=9), status="closed", risk="medium",
            attrs={"reported_at": t.isoformat(), "found_at_time": (t + timedelta(hours=9)).isoformat(),
                   "episode_number": 1})
    rid = _da(s, hh, mother, partner, 60)
    finding(s, DA, "finding", "prior-missing-episode", events=[("police", rid)],
            addresses=[(hh.home, "location")], people=[(kids[0], "child")])
    s.close()


def da_after_previous_family(w: World) -> None:
    """The children were a previous family's; the couple there now has none."""
    s = scope(w)
    old, mother, kids = mother_and_children(w, [5, 9])
    moved_out = w.ref - timedelta(days=700)
    for p in [mother, *kids]:
        s.person("childrens_social_care", p, home=False)
        s.occupy("childrens_social_care", p, old.home, "lives_at", start=old.since, end=moved_out)
    s.event("childrens_social_care", "referral", days_ago(w, 1100), [(k, "subject") for k in kids],
            [(old.home, "location")], date_only=True, status="closed", description="Neglect")
    for p in [mother, *kids]:
        p.home = w.county.new_home(s.rng)
    man = w.person("white_british", "M", 33)
    woman = w.person("white_british", "F", 31)
    for p in (man, woman):
        p.home, p.since = old.home, w.ref - timedelta(days=500)
    rid = _da(s, old, woman, man, 30)
    finding(s, DA, "finding", "previous-family-children", events=[("police", rid)],
            addresses=[(old.home, "location")], note="earlier referral about another family's children")
    s.close()


def da_after_child_victim(w: World) -> None:
    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [11])
    s.event("police", "crime", days_ago(w, 390, 16), [(kids[0], "victim")], [(hh.home, "location")],
            status="filed", description="Assault on child by neighbour's son", concern="child victim")
    rid = _da(s, hh, partner, mother, 90)
    finding(s, DA, "finding", "prior-child-victim-crime", events=[("police", rid)],
            addresses=[(hh.home, "location")], people=[(kids[0], "child")])
    s.close()


def da_decoys(w: World) -> None:
    """No earlier child event; DA too old; child events only after the DA."""
    s = scope(w)
    man = lone_adult(w, "M", 45)
    woman = w.person("white_british", "F", 43)
    woman.home, woman.since = man.home, man.since
    hh = Household(man.home, [man, woman], "couple", man.since or w.ref)  # type: ignore[arg-type]
    s.event("police", "crime", days_ago(w, 600, 3), [(man, "victim")], [(hh.home, "location")],
            status="undetected", description="burglary dwelling")
    rid = _da(s, hh, woman, man, 100)
    finding(s, DA, "no_finding", "no-prior-child-events", events=[("police", rid)])
    s.close()

    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [9, 13])
    enrol(s, hh, kids, [mother])
    s.event("education", "referral", days_ago(w, 1100), [(kids[0], "subject")], [(hh.home, "location")],
            date_only=True, status="submitted")
    rid = _da(s, hh, mother, partner, 500)
    finding(s, DA, "no_finding", "domestic-abuse-older-than-a-year", events=[("police", rid)])
    s.close()

    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [6])
    rid = _da(s, hh, mother, partner, 150)
    s.event("childrens_social_care", "referral", days_ago(w, 130), [(kids[0], "subject")],
            [(hh.home, "location")], date_only=True, status="assessment")
    finding(s, DA, "no_finding", "child-event-only-after", events=[("police", rid)])
    s.close()


# -- custody-appropriate-adult-delay ----------------------------------------------------
def _custody(s: Scope, teen: Person, carer: Person, when: datetime, delay: timedelta | None, *,
             charged: bool = False, bail_refused: bool = False, notify: bool = True) -> str:
    suite = s.w.county.custody[0]
    attrs: dict[str, object] = {"detained_at": when.isoformat(),
                                "appropriate_adult_requested_at": (when + timedelta(minutes=15)).isoformat()}
    people = [(teen, "detained")]
    if delay is not None:
        attrs["appropriate_adult_arrived_at"] = (when + delay).isoformat()
        people.append((carer, "appropriate_adult"))
    attrs |= {"charged": charged, "bail_refused": bail_refused}
    if bail_refused:
        attrs["transferred_to_local_authority_at"] = (when + timedelta(hours=14)).isoformat()
    s.w.pnc_for(teen, when.year)
    return s.event("police", "custody", when, people, [(suite, "location")], notify=notify, attrs=attrs,
                   status="charged" if charged else "released under investigation",
                   reference=f"CU/{s.rng.randrange(10**5):05d}", concern="child detained")


def custody_scenarios(w: World) -> None:
    cases: tuple[tuple[str, int, timedelta | None, str, dict[str, bool]], ...] = (
             ("20-hour-delay", 16, timedelta(hours=20), "finding", {}),
             ("no-arrival-recorded", 15, None, "finding", {}),
             ("six-hours-charged-bail-refused", 16, timedelta(hours=6, minutes=5), "finding",
              {"charged": True, "bail_refused": True}),
             ("nine-hours-duplicate-nominal", 15, timedelta(hours=9), "finding", {}),
             ("arrived-within-the-hour", 15, timedelta(minutes=45), "no_finding", {}),
             ("arrived-at-3h50", 16, timedelta(hours=3, minutes=50), "no_finding", {}))
    for i, (scenario, age, delay, expect, kw) in enumerate(cases):
        s = scope(w)
        hh, mother, kids = mother_and_children(w, [age], mother_age=40)
        if "duplicate" in scenario:
            s.person("police", kids[0], dup=True)
        rid = _custody(s, kids[0], mother, days_ago(w, 60 + 45 * i, 22, 10), delay, **kw)
        finding(s, CUSTODY, expect, scenario, events=[("police", rid)], people=[(kids[0], "child")])
        s.close()
    s = scope(w)
    young_adult = lone_adult(w, "M", 20)
    rid = _custody(s, young_adult, young_adult, days_ago(w, 40, 2), None)
    finding(s, CUSTODY, "no_finding", "adult-detained-no-appropriate-adult", events=[("police", rid)])
    s.close()


# -- police-protection-lapsed ------------------------------------------------------------
def protection_scenarios(w: World) -> None:
    cases = (("96-hours", 300, 96, "finding"), ("no-end-recorded", 10, None, "finding"),
             ("80-hours", 150, 80, "finding"), ("ended-after-48-hours", 220, 48, "no_finding"),
             ("no-end-started-18-hours-ago", 1, None, "no_finding"))
    for scenario, days, hours, expect in cases:
        s = scope(w)
        hh, mother, kids = mother_and_children(w, [s.rng.randrange(3, 14)])
        start = days_ago(w, days, 6 if days == 1 else 14)
        attrs: dict[str, object] = {"started_at": start.isoformat()}
        end = start + timedelta(hours=hours) if hours else None
        if end:
            attrs["ended_at"] = end.isoformat()
        rid = s.event("police", "police_protection", start, [(kids[0], "involved_child")],
                      [(hh.home, "location")], ended=end, attrs=attrs, status="ended" if end else "",
                      reference=f"PP/{s.rng.randrange(10**4):04d}",
                      description="Section 46: child removed to a place of safety")
        if days > 3:
            s.notify(kids, start, "police protection", via_referral=False)
        finding(s, PROTECTION, expect, scenario, events=[("police", rid)], people=[(kids[0], "child")])
        s.close()


# -- missing-ppn ---------------------------------------------------------------------------
def missing_ppn_scenarios(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [13])
    park = w.county.by_name[hh.home.town].places[-1]
    rid = s.event("police", "crime", days_ago(w, 200, 17), [(kids[0], "victim")], [(park, "location")],
                  notify=False, status="under investigation", description="Robbery of mobile phone")
    finding(s, PPN, "finding", "child-victim-no-ppn", events=[("police", rid)], people=[(kids[0], "child")])
    s.close()

    s = scope(w)
    hh, mother, partner, kids = _couple_with_children(w, [10])
    rid = _da(s, hh, mother, partner, 250, kids=kids, notify=False)
    s.notify(kids, days_ago(w, 250 - 11, 23), "domestic abuse", via_referral=False)
    finding(s, PPN, "finding", "da-child-witness-ppn-12-days-late", events=[("police", rid)],
            people=[(kids[0], "child")])
    s.close()

    s = scope(w)
    hh, mother, kids = mother_and_children(w, [7, 12])
    t = days_ago(w, 170, 20)
    rid = s.event("police", "incident", t, [(mother, "reporting_person")] + [(k, "involved_child") for k in kids],
                  [(hh.home, "location")], notify=False, status="closed",
                  description="Concern for welfare: children left alone overnight")
    s.notify([kids[1]], t, "concern for welfare", via_referral=False)
    finding(s, PPN, "finding", "ppn-names-sibling-only", events=[("police", rid)], people=[(kids[0], "child")])
    s.close()

    s = scope(w)
    hh, mother, kids = mother_and_children(w, [15], mother_age=42)
    rid = _custody(s, kids[0], mother, days_ago(w, 90, 18), timedelta(hours=1), notify=False)
    finding(s, PPN, "finding", "custody-no-ppn", events=[("police", rid)], people=[(kids[0], "child")])
    finding(s, CUSTODY, "no_finding", "appropriate-adult-after-an-hour", events=[("police", rid)])
    s.close()
    _missing_ppn_decoys(w)


def _missing_ppn_decoys(w: World) -> None:
    for scenario, referral in (("ppn-within-3-days", False), ("social-care-referral-within-5-days", True)):
        s = scope(w)
        hh, mother, kids = mother_and_children(w, [11])
        t = days_ago(w, 140, 15)
        rid = s.event("police", "crime", t, [(kids[0], "victim")], [(hh.home, "location")], notify=False,
                      status="filed", description="Assault by an older pupil")
        s.notify(kids, t, "child victim of crime", via_referral=referral)
        finding(s, PPN, "no_finding", scenario, events=[("police", rid)], people=[(kids[0], "child")])
        s.close()
    s = scope(w)
    victim = lone_adult(w, "F", 20)
    rid = s.event("police", "crime", days_ago(w, 80, 1), [(victim, "victim")], [(home_of(victim), "location")],
                  notify=False, status="filed", description="Assault")
    finding(s, PPN, "no_finding", "adult-victim-aged-20", events=[("police", rid)])
    s.close()


SCENARIOS = (
    da_after_education_referral, da_after_missing_episode, da_after_previous_family,
    da_after_child_victim, da_decoys, custody_scenarios, protection_scenarios, missing_ppn_scenarios,
)
