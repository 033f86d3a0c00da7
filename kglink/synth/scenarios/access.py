"""Scenarios: wanted people and registered sex offenders with access to children."""
from __future__ import annotations

from datetime import date, timedelta

from kglink.synth import offenders
from kglink.synth.model import Person
from kglink.synth.scenarios.common import (csc_family, days_ago, enrol, finding, home_of, infants,
                                           lone_adult, mother_and_children, move_in, scope)
from kglink.synth.scope import Scope
from kglink.synth.world import World

WANTED = "wanted-with-child-access"
RSO_CONTACT = "sex-offender-child-contact"


def _wanted(s: Scope, p: Person, since: date, detail: str, until: date | None = None) -> None:
    s.w.pnc_for(p, since.year)
    s.flag("police", p, "wanted", since, until, detail)


def _intel(s: Scope, subject: Person, other: Person, text: str, days: int) -> None:
    s.event("police", "intelligence", days_ago(s.w, days, 15), [(subject, "subject"), (other, "associate")],
            description=text, reference=f"INT{s.rng.randrange(10**6):06d}")


def _family(kids: list[Person], mother: Person) -> list[tuple[Person, str]]:
    return [(mother, "parent")] + [(k, "child") for k in kids]


# -- wanted-with-child-access ------------------------------------------------------
def wanted_partner_of_mother(w: World) -> None:
    """Partner recorded only by the police; the children known only to education."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [7, 11])
    man = lone_adult(w, "M", 36)
    enrol(s, hh, kids, [mother])
    _intel(s, man, mother, "Subject is in a relationship with the associate", 120)
    s.relate("police", man, "partner_of", mother)
    _wanted(s, man, w.ref - timedelta(days=400), "failed to appear: assault")
    finding(s, WANTED, "finding", "partner-of-mother", people=[(man, "subject"), *_family(kids, mother)],
            note="partner_of in police; parent_of in education")
    s.close()


def wanted_lives_at_mothers_address(w: World) -> None:
    """No relationship anywhere: only the police record puts him at the family's address."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [4, 9], community="polish")
    man = w.person("polish", "M", 33)
    move_in(hh, man, w.ref - timedelta(days=200))
    csc_family(s, hh, kids, [mother], days_ago(w, 500), "neglect concerns raised by school")
    _wanted(s, man, w.ref - timedelta(days=90), "wanted for burglary")
    finding(s, WANTED, "finding", "lives-at-mothers-address-only",
            people=[(man, "subject"), *_family(kids, mother)], addresses=[(hh.home, "home")],
            note="police lives_at written differently from social care's address")
    s.close()


def wanted_household_member_in_csc(w: World) -> None:
    """The inspection's case: wanted since 2019 for a sexual offence against a 15-year-old;
    social care knows him (under a nickname) as a household member of a girl's mother."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [9], mother_age=31)
    man = lone_adult(w, "M", 41, forenames=["William", "James"])
    enrol(s, hh, kids, [mother])
    csc_family(s, hh, kids, [mother], days_ago(w, 60), "Concerns about mother's new partner")
    man.forenames = ["Bill"]
    s.person("childrens_social_care", man, home=False)
    man.forenames = ["William", "James"]
    s.occupy("childrens_social_care", man, hh.home, "lives_at", start=w.ref - timedelta(days=150))
    s.relate("childrens_social_care", man, "household_member", mother)
    _wanted(s, man, date(2019, 6, 12), "sexual assault of a female aged 15 (2019)")
    finding(s, WANTED, "finding", "household-member-in-social-care",
            people=[(man, "subject"), *_family(kids, mother)],
            note="wanted flag in police; household_member and address in social care, as 'Bill'")
    s.close()


def wanted_partner_in_marac(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [2, 6], community="black_caribbean", mother_age=27)
    man = lone_adult(w, "M", 30, community="black_caribbean")
    infants(s, [kids[0]], mother)
    s.event("marac", "marac_case", days_ago(w, 75, 10), [(mother, "victim"), (man, "perpetrator")]
            + [(k, "involved_child") for k in kids], [(hh.home, "location")], risk="high",
            date_only=True, status="actions agreed", description="Strangulation disclosed to IDVA")
    s.relate("marac", mother, "partner_of", man)
    for k in kids:
        s.relate("marac", mother, "parent_of", k)
    _wanted(s, man, w.ref - timedelta(days=30), "wanted for assault occasioning ABH")
    finding(s, WANTED, "finding", "partner-in-marac", people=[(man, "subject"), *_family(kids, mother)],
            note="partner_of in the MARAC extract; wanted flag in police")
    s.close()


def wanted_decoy_namesake(w: World) -> None:
    """A wanted man who only shares a father's name (different dob and address), living alone."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [5, 8])
    father = w.person("white_british", "M", 38, kids[0].surname)
    move_in(hh, father, hh.since)
    enrol(s, hh, kids, [mother, father])
    town = w.county.by_name[hh.home.town]
    man = lone_adult(w, "M", 29, town=town, forenames=list(father.forenames), surname=father.surname)
    s.person("police", man)
    _wanted(s, man, w.ref - timedelta(days=200), "recall to prison")
    finding(s, WANTED, "no_finding", "namesake-of-a-father", people=[(man, "subject")],
            note=f"same name as father {father.tid or ''} but different dob and home; lives alone")
    s.close()


def wanted_decoy_expired(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [3, 10])
    man = w.person("white_british", "M", 35)
    move_in(hh, man, hh.since)
    enrol(s, hh, kids, [mother])
    s.relate("police", man, "partner_of", mother)
    _wanted(s, man, w.ref - timedelta(days=900), "failed to appear: theft (arrested)",
            until=w.ref - timedelta(days=700))
    finding(s, WANTED, "no_finding", "wanted-flag-expired", people=[(man, "subject")],
            note="lives with children but the wanted flag ended")
    s.close()


def wanted_decoy_ex_partner(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [6])
    man = lone_adult(w, "M", 40)
    enrol(s, hh, kids, [mother])
    _intel(s, man, mother, "Former partner of the associate; no current contact", 300)
    s.relate("police", man, "ex_partner_of", mother)
    _wanted(s, man, w.ref - timedelta(days=60), "breach of bail: assault")
    finding(s, WANTED, "no_finding", "ex-partner-lives-elsewhere", people=[(man, "subject")],
            note="ex_partner_of is not partner_of; lives alone")
    s.close()


# -- sex-offender-child-contact ----------------------------------------------------
def _as_alias(s: Scope, agency: str, p: Person, alias: tuple[str, str]) -> None:
    """Make agency's record of p under an alias name."""
    real = (p.forenames, p.surname)
    p.forenames, p.surname = alias[0].split(), alias[1]
    s.person(agency, p)
    p.forenames, p.surname = real


def rso_alias_partner(w: World) -> None:
    """Known to the police only under an alias that ViSOR lists; partner of a mother."""
    s = scope(w)
    rso = lone_adult(w, "M", 47, forenames=["Stephen", "Paul"], surname="Hughes")
    rso.aliases = [("Paul", "Hewson"), ("Steve", "Hughes")]
    last = offenders.rso(s, rso, level="high", shpo=True, police=False)
    _as_alias(s, "police", rso, ("Paul", "Hewson"))
    hh, mother, kids = mother_and_children(w, [5, 8])
    enrol(s, hh, kids, [mother])
    _intel(s, mother, rso, "Female in a relationship with Paul HEWSON", 45)
    s.relate("police", rso, "partner_of", mother)
    finding(s, RSO_CONTACT, "finding", "alias-partner-of-mother", people=[(rso, "subject"), *_family(kids, mother)],
            note="police record under alias 'Paul Hewson' listed in ViSOR aliases")
    offenders.declare_area(s, rso, last, "alias-partner-of-mother")
    s.close()


def rso_visited_by_mother(w: World) -> None:
    """The inspection's case: a mother of two visits the offender's registered address."""
    s = scope(w)
    rso = lone_adult(w, "M", 52)
    rso.aliases = [("Dave", "Hart")]
    last = offenders.rso(s, rso, level="medium", shpo=True)
    hh, mother, kids = mother_and_children(w, [6, 9])
    enrol(s, hh, kids, [mother])
    s.event("police", "intelligence", days_ago(w, 30, 21), [(mother, "subject")], [(home_of(rso), "location")],
            description="Female seen entering the address late evening", reference="INT-OBS")
    s.person("police", mother)
    s.occupy("police", mother, home_of(rso), "visits", start=w.ref - timedelta(days=30))
    finding(s, RSO_CONTACT, "finding", "mother-visits-registered-address",
            people=[(rso, "subject"), *_family(kids, mother)], addresses=[(home_of(rso), "home")],
            note="visits occupancy to the RSO's registered address (a breach of his SHPO)")
    offenders.declare_area(s, rso, last, "mother-visits-registered-address")
    s.close()


def rso_lives_with_child(w: World) -> None:
    """Registered at his flat; the police have him living with a partner and her infants."""
    s = scope(w)
    rso = lone_adult(w, "M", 39)
    last = offenders.rso(s, rso, level="medium", police=False)
    hh, mother, kids = mother_and_children(w, [1, 3], mother_age=26)
    infants(s, kids, mother)
    s.person("police", rso, home=False)
    s.occupy("police", rso, hh.home, "lives_at", start=w.ref - timedelta(days=90))
    finding(s, RSO_CONTACT, "finding", "lives-with-infants-known-to-health",
            people=[(rso, "subject"), *_family(kids, mother)], addresses=[(hh.home, "home")],
            note="police lives_at the family home; the children are known only to health")
    offenders.declare_area(s, rso, last, "lives-with-infants-known-to-health")
    s.close()


def rso_associate_of_father(w: World) -> None:
    s = scope(w)
    rso = lone_adult(w, "M", 58, community="irish")
    last = offenders.rso(s, rso, level="low", children=True)
    hh, mother, kids = mother_and_children(w, [10, 13])
    father = w.person("white_british", "M", 41, kids[0].surname)
    move_in(hh, father, hh.since)
    enrol(s, hh, kids, [mother, father])
    _intel(s, father, rso, "Drinks with the associate most weekends", 100)
    s.relate("police", father, "associate_of", rso)
    finding(s, RSO_CONTACT, "finding", "associate-of-father",
            people=[(rso, "subject"), (father, "parent")] + [(k, "child") for k in kids],
            note="associate_of in police; parent_of in education")
    offenders.declare_area(s, rso, last, "associate-of-father")
    s.close()


def rso_decoy_alone(w: World) -> None:
    s = scope(w)
    rso = lone_adult(w, "M", 63)
    last = offenders.rso(s, rso, level="low", reactive=True, visits=2)
    finding(s, RSO_CONTACT, "no_finding", "lives-alone-no-contacts", people=[(rso, "subject")])
    offenders.declare_area(s, rso, last, "lives-alone-no-contacts")
    s.close()


def rso_decoy_childless_associate(w: World) -> None:
    s = scope(w)
    rso = lone_adult(w, "M", 44)
    last = offenders.rso(s, rso, level="medium")
    friend = lone_adult(w, "M", 46)
    _intel(s, friend, rso, "Works alongside the associate", 200)
    s.relate("police", friend, "associate_of", rso)
    finding(s, RSO_CONTACT, "no_finding", "associate-of-childless-adult", people=[(rso, "subject")])
    offenders.declare_area(s, rso, last, "associate-of-childless-adult")
    s.close()


def rso_decoy_registration_ended(w: World) -> None:
    """Registration ended years ago; now lives with a partner and her children."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [7, 12])
    man = w.person("white_british", "M", 50)
    move_in(hh, man, hh.since)
    enrol(s, hh, kids, [mother])
    offenders.rso(s, man, level="low", children=False, ended=w.ref - timedelta(days=800), visits=1)
    finding(s, RSO_CONTACT, "no_finding", "registration-ended", people=[(man, "subject")])
    offenders.declare_area(s, man, None, "registration-ended", expect="no_finding")
    s.close()


SCENARIOS = (
    wanted_partner_of_mother, wanted_lives_at_mothers_address, wanted_household_member_in_csc,
    wanted_partner_in_marac, wanted_decoy_namesake, wanted_decoy_expired, wanted_decoy_ex_partner,
    rso_alias_partner, rso_visited_by_mother, rso_lives_with_child, rso_associate_of_father,
    rso_decoy_alone, rso_decoy_childless_associate, rso_decoy_registration_ended,
)
