"""Scenarios: NCA referrals with child access; reactive RSOs who breach; the RSO register."""
from __future__ import annotations

from datetime import timedelta

from kglink.synth import bg_family, offenders
from kglink.synth.model import Address, Person
from kglink.synth.scenarios.access import _as_alias
from kglink.synth.scenarios.common import (days_ago, finding, infants, lone_adult,
                                           mother_and_children, move_in, scope)
from kglink.synth.world import World

ONLINE = "online-offender-child-access"
BREACH = "reactive-rso-breach"


def _school(w: World, p: Person) -> Address:
    town = w.county.by_name[p.home.town] if p.home else w.county.towns[0]
    return town.primaries[-1][0]


# -- online-offender-child-access ----------------------------------------------------
def nca_infant_known_only_to_health(w: World) -> None:
    """The subject's one-year-old is known only to health; his job is not one of trust."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [1], mother_age=30)
    man = w.person("white_british", "M", 34, occupation="IT consultant")
    move_in(hh, man, hh.since)
    infants(s, kids, mother)
    rid = offenders.nca_referral(s, man, days_ago(w, 40, 9), images=212, category="A")
    finding(s, ONLINE, "finding", "infant-known-only-to-health",
            people=[(man, "subject"), (kids[0], "child")], events=[("nca", rid)],
            note="lives at the same address as a child recorded only by health")
    s.close()


def nca_primary_teacher(w: World) -> None:
    """The inspection's case: a primary school teacher with a one-year-old at home."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [1], mother_age=32, community="indian")
    man = w.person("indian", "M", 36, occupation="primary school teacher")
    move_in(hh, man, hh.since)
    infants(s, kids, mother)
    bg_family.staff(s, man, _school(w, man))
    rid = offenders.nca_referral(s, man, days_ago(w, 25, 11), images=57, category="B")
    finding(s, ONLINE, "finding", "primary-teacher-with-infant",
            people=[(man, "subject"), (kids[0], "child")], events=[("nca", rid)],
            note="occupation of trust, works_at a school, and a child at home")
    s.close()


def nca_school_bus_driver(w: World) -> None:
    s = scope(w)
    man = lone_adult(w, "M", 55, occupation="school bus driver")
    rid = offenders.nca_referral(s, man, days_ago(w, 70, 14), images=8, category="C")
    finding(s, ONLINE, "finding", "school-bus-driver", people=[(man, "subject")], events=[("nca", rid)],
            note="occupation of trust; lives alone")
    s.close()


def nca_foster_applicant(w: World) -> None:
    """A foster-carer applicant in social care, living with an adult partner only."""
    s = scope(w)
    man = lone_adult(w, "M", 44, occupation="retail manager")
    partner = w.person("white_british", "F", 42)
    partner.home, partner.since = man.home, man.since
    bg_family.foster_applicant(s, man)
    s.relate("childrens_social_care", man, "partner_of", partner)
    rid = offenders.nca_referral(s, man, days_ago(w, 15, 10), images=31, category="B")
    finding(s, ONLINE, "finding", "foster-carer-applicant", people=[(man, "subject")],
            events=[("nca", rid)], note="foster_carer_applicant flag in social care only")
    s.close()


def nca_teaching_assistant_works_at_school(w: World) -> None:
    """NCA knows no occupation; education lists him as staff at a school."""
    s = scope(w)
    man = lone_adult(w, "M", 27, occupation="")
    rid = offenders.nca_referral(s, man, days_ago(w, 50, 16), images=140, category="A")
    man.occupation = "teaching assistant"
    bg_family.staff(s, man, _school(w, man))
    finding(s, ONLINE, "finding", "works-at-school-per-education", people=[(man, "subject")],
            events=[("nca", rid)], note="works_at an address of kind school, in education only")
    s.close()


def nca_decoy_alone(w: World) -> None:
    s = scope(w)
    man = lone_adult(w, "M", 31, occupation="warehouse operative")
    rid = offenders.nca_referral(s, man, days_ago(w, 90), images=3, category="C")
    finding(s, ONLINE, "no_finding", "adult-alone-no-trust", people=[(man, "subject")],
            events=[("nca", rid)])
    s.close()


def nca_decoy_adult_son(w: World) -> None:
    """Lives with his 23-year-old son: a son, but not a child."""
    s = scope(w)
    man = lone_adult(w, "M", 52, occupation="delivery driver")
    son = w.person("white_british", "M", 23, man.surname)
    son.home, son.since = man.home, man.since
    s.relate("police", man, "parent_of", son)
    rid = offenders.nca_referral(s, man, days_ago(w, 120), images=19, category="C")
    finding(s, ONLINE, "no_finding", "lives-with-adult-son", people=[(man, "subject")],
            events=[("nca", rid)])
    s.close()


# -- reactive-rso-breach --------------------------------------------------------------
def breach_in_visor(w: World) -> None:
    s = scope(w)
    p = lone_adult(w, "M", 61)
    last = offenders.rso(s, p, level="low", reactive=True, children=False, visits=2)
    rid = offenders.breach(s, p, 90)
    finding(s, BREACH, "finding", "breach-recorded-in-visor", people=[(p, "subject")], events=[("visor", rid)])
    offenders.declare_area(s, p, last, "breach-recorded-in-visor")
    s.close()


def breach_in_police_under_alias(w: World) -> None:
    s = scope(w)
    p = lone_adult(w, "M", 49, forenames=["Anthony"], surname="Marsh")
    p.aliases = [("Tony", "Marsh-Reed")]
    last = offenders.rso(s, p, level="low", reactive=True, visits=1, police=False)
    _as_alias(s, "police", p, ("Tony", "Marsh-Reed"))
    rid = offenders.breach(s, p, 150, agency="police", role="offender",
                           what="failed to notify use of a new online identity")
    finding(s, BREACH, "finding", "breach-in-police-under-alias", people=[(p, "subject")],
            events=[("police", rid)], note="flags in ViSOR; breach recorded by police against the alias")
    offenders.declare_area(s, p, last, "breach-in-police-under-alias")
    s.close()


def breach_failed_to_notify(w: World) -> None:
    s = scope(w)
    p = lone_adult(w, "M", 70, community="irish")
    last = offenders.rso(s, p, level="low", reactive=True, visits=2)
    rid = offenders.breach(s, p, 300, role="offender", what="failed to notify foreign travel")
    finding(s, BREACH, "finding", "failed-to-notify-10-months-ago", people=[(p, "subject")],
            events=[("visor", rid)])
    offenders.declare_area(s, p, last, "failed-to-notify-10-months-ago")
    s.close()


def breach_decoys(w: World) -> None:
    """Reactive without a breach; reactive with a breach too old; active with a new breach."""
    for scenario, reactive, days, level in (("reactive-no-breach", True, None, "low"),
                                            ("breach-too-old", True, 500, "low"),
                                            ("active-management-breach", False, 60, "high")):
        s = scope(w)
        p = lone_adult(w, "M", s.rng.randrange(35, 70))
        last = offenders.rso(s, p, level=level, reactive=reactive, visits=2)
        events = [("visor", offenders.breach(s, p, days))] if days else []
        finding(s, BREACH, "no_finding", scenario, people=[(p, "subject")], events=events)
        offenders.declare_area(s, p, last, scenario)
        s.close()


def area_decoy_violent_offender(w: World) -> None:
    """On ViSOR as a violent offender, never registered as a sex offender."""
    s = scope(w)
    p = lone_adult(w, "M", 38)
    w.pnc_for(p, 2015)
    s.person("visor", p, home=False)
    assert p.home is not None
    s.occupy("visor", p, p.home, "registered_at", start=w.ref - timedelta(days=700))
    s.person("police", p)
    offenders.declare_area(s, p, None, "violent-offender-not-rso", expect="no_finding")
    s.close()


SCENARIOS = (
    nca_infant_known_only_to_health, nca_primary_teacher, nca_school_bus_driver, nca_foster_applicant,
    nca_teaching_assistant_works_at_school, nca_decoy_alone, nca_decoy_adult_son,
    breach_in_visor, breach_in_police_under_alias, breach_failed_to_notify, breach_decoys,
    area_decoy_violent_offender,
)
