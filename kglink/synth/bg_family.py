"""What education, health and children's social care record of an ordinary household."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from kglink.synth import namedata as nd
from kglink.synth.model import Address, Household, Person, age_on, at
from kglink.synth.scope import Scope

_REFERRAL_RATE = {"family": 0.16, "single_parent": 0.32, "blended": 0.4, "multigen": 0.12,
                  "child_in_care": 1.0, "foster": 1.0}
_REFERRAL_REASONS = ("neglect concerns raised by school", "domestic abuse notification",
                     "parental mental health", "child behaviour at home", "concerns from health visitor",
                     "anonymous referral", "parental substance misuse", "school attendance")


def age(s: Scope, p: Person) -> int:
    return age_on(p.dob, s.w.ref)


def education(s: Scope, hh: Household, referred: bool) -> None:
    w, rng = s.w, s.rng
    town = w.county.by_name[hh.home.town]
    pupils = [p for p in hh.members if 4 <= age(s, p) <= 16]
    schools: dict[bool, tuple[Address, str]] = {}
    for kid in pupils:
        primary = age(s, kid) <= 10
        if primary not in schools or rng.random() < 0.1:
            schools[primary] = w.county.school_for(rng, town, age(s, kid))
        school, dfe = schools[primary]
        start = date(kid.dob.year + (5 if primary else 11), 9, 1)
        if not kid.upn:
            kid.upn = w.upns.next(town.la_code, dfe, kid.dob.year + 5)
        s.person("education", kid)
        s.occupy("education", kid, school, "frequents", start=min(start, w.ref - timedelta(days=30)))
        for carer in _contacts(hh, kid):
            rel = "parent_of" if (carer, "parent_of", kid) in _link_set(hh) else "carer_of"
            s.person("education", carer, contact=True, dup=len(schools) > 1 and rng.random() < 0.4)
            s.relate("education", carer, rel, kid)
    if pupils and rng.random() < 0.45:
        _emergency_contact(s, hh, pupils)
    if pupils and referred and rng.random() < 0.35:
        kid = rng.choice(pupils)
        if kid.home is not None and kid.home_relation == "lives_at":
            when = s.slot([kid.home], w.past(min(900, (w.ref - kid.since).days) if kid.since else 900))
            s.event("education", "referral", when, [(kid, "subject")], [(kid.home, "location")],
                    date_only=True, description="DSL referral to MASH", status="submitted")
    for p in hh.members:
        if p.occupation in nd.SCHOOL_STAFF and p.home_relation == "lives_at":
            staff(s, p)


def staff(s: Scope, p: Person, school: Address | None = None) -> None:
    w, rng = s.w, s.rng
    if school is None:
        town = w.county.by_name[p.home.town] if p.home else w.county.towns[0]
        school, _ = rng.choice(town.primaries + town.secondaries)
    s.person("education", p)
    s.occupy("education", p, school, "works_at", start=w.ref - timedelta(days=rng.randrange(100, 4000)))


def _link_set(hh: Household) -> set[tuple[Person, str, Person]]:
    return set(hh.links)


def _contacts(hh: Household, kid: Person) -> list[Person]:
    carers = hh.parents_of(kid)
    for parent in list(carers):
        partner = hh.partner_of(parent)
        if partner is not None and partner not in carers and partner in hh.members:
            carers.append(partner)       # a step-parent listed as a contact
    return [c for c in carers if c.home is hh.home]


def _emergency_contact(s: Scope, hh: Household, pupils: list[Person]) -> None:
    """A grandparent living elsewhere in the county, with no date of birth."""
    w, rng = s.w, s.rng
    parent = next((c for c in hh.parents_of(pupils[0])), None)
    if parent is None:
        return
    gran = w.person(parent.community, "F", rng.randrange(58, 85), parent.alt_surname or parent.surname)
    gran.home = w.county.new_home(rng, w.county.by_name[hh.home.town])
    gran.since = w.ref - timedelta(days=rng.randrange(1000, 9000))
    for kid in pupils:
        s.person("education", gran, contact=True)
        s.relate("education", gran, "carer_of", kid)


def health(s: Scope, hh: Household) -> None:
    w, rng = s.w, s.rng
    for kid in hh.members:
        if age(s, kid) >= 5 or kid.home_relation != "lives_at":
            continue
        s.person("health", kid)
        for mother in hh.parents_of(kid):
            if mother.sex == "F":
                s.person("health", mother)
                s.relate("health", mother, "parent_of", kid)
        if rng.random() < 0.03 and kid.home is not None:
            born = max(kid.dob, kid.since or kid.dob)
            when = s.slot([kid.home], w.past(max(9, (w.ref - born).days)))
            s.event("health", "referral", when, [(kid, "subject")], [(kid.home, "location")],
                    description="Health visitor safeguarding referral", status="sent")


def social_care(s: Scope, hh: Household) -> bool:
    """Referral history of a family known to children's services; True if referred."""
    w, rng = s.w, s.rng
    kids = [p for p in hh.members if age(s, p) < 18]
    if not kids or rng.random() >= _REFERRAL_RATE.get(hh.shape, 0.0):
        return False
    adults = [p for p in hh.members if age(s, p) >= 18]
    for a, rel, b in hh.links:
        if rel in ("parent_of", "carer_of", "sibling_of", "partner_of"):
            s.relate("childrens_social_care", a, rel, b)
    for p in adults:
        s.person("childrens_social_care", p)
    if hh.shape == "blended":          # the mother's new partner, as social care records him
        s.relate("childrens_social_care", hh.members[-1 if hh.members[-1].sex == "M" and
                 age(s, hh.members[-1]) >= 18 else -2], "household_member", hh.members[0])
    for kid in kids:
        s.person("childrens_social_care", kid)
        if kid.home_relation == "placed_at":
            s.flag("childrens_social_care", kid, "looked_after_child", kid.since)
    _referrals(s, hh, kids)
    return True


def _referrals(s: Scope, hh: Household, kids: list[Person]) -> None:
    w, rng = s.w, s.rng
    home = hh.home
    days_here = (w.ref - hh.since).days
    for _ in range(rng.choice((1, 1, 2))):
        when = s.slot([home], w.past(max(40, days_here), 40))
        present = [k for k in kids if k.dob < when.date() and k.home is home]
        if not present:
            continue
        people = [(k, "subject") for k in present]
        s.event("childrens_social_care", "referral", when, people, [(home, "location")],
                date_only=True, status=rng.choice(("closed", "NFA", "assessment")),
                description=rng.choice(_REFERRAL_REASONS))
        if rng.random() < 0.4:
            meet = s.slot([home], when + timedelta(days=rng.randrange(2, 10)))
            s.event("childrens_social_care", "strategy_meeting", meet, people, [(home, "location")],
                    date_only=True, status="held")
            if rng.random() < 0.5:
                _conference(s, present, meet)


def _conference(s: Scope, kids: list[Person], after: datetime) -> None:
    w, rng = s.w, s.rng
    day = after.date() + timedelta(days=rng.randrange(10, 15))
    if day >= w.ref - timedelta(days=2):
        return
    s.event("childrens_social_care", "child_protection_conference", at(day, 10),
            [(k, "subject") for k in kids], date_only=True, status="plan agreed")
    end = day + timedelta(days=rng.randrange(180, 600))
    for k in kids:
        s.flag("childrens_social_care", k, "child_protection_plan", day,
               end if end < w.ref else None, rng.choice(("neglect", "emotional abuse", "physical abuse")))


def foster_applicant(s: Scope, p: Person) -> None:
    w = s.w
    s.person("childrens_social_care", p)
    s.flag("childrens_social_care", p, "foster_carer_applicant",
           w.ref - timedelta(days=s.rng.randrange(20, 300)), detail="Form F assessment")
