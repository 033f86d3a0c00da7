"""What the police (and MARAC, after high-risk domestic abuse) record of a household.

Nothing here may fire a risk query by accident: a child in a police event always gets a
PPN, custody of a child always has an appropriate adult within the hour or three, police
protection always ends within 72 hours, missing episodes are always closed, and wanted
flags are only put on adults of households with no children. Domestic abuse is the
exception: where it fires, Scope.close records it in the truth.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from kglink.synth.model import Household, Person, age_on, at
from kglink.synth.scope import Scope

_CHILDLESS = frozenset({"alone", "couple", "house_share", "older_couple"})
_CRIMES = ("burglary dwelling", "theft from motor vehicle", "criminal damage", "theft of pedal cycle",
           "fraud", "assault occasioning ABH", "harassment")
_INCIDENTS = ("concern for welfare", "anti-social behaviour", "noise nuisance", "road traffic collision",
              "suspicious circumstances", "neighbour dispute")
_WANTED_FOR = ("failed to appear: theft", "recall to prison", "breach of bail: assault",
               "failed to appear: drink driving", "warrant: non-payment of fines", "wanted for burglary")


def age(s: Scope, p: Person, when: datetime | None = None) -> int:
    return age_on(p.dob, when.date() if when else s.w.ref)


def reference(s: Scope, when: datetime) -> str:
    return f"40/{s.rng.randrange(10000, 99999)}/{when.year % 100:02d}"


def police(s: Scope, hh: Household) -> None:
    rng = s.rng
    adults = [p for p in hh.members if age(s, p) >= 18 and p.home is hh.home]
    kids = [p for p in hh.members if age(s, p) < 18]
    if adults and rng.random() < 0.45:
        crime_victim(s, hh, rng.choice(adults))
    if adults and rng.random() < 0.45:
        incident(s, hh, adults)
    if rng.random() < 0.11:
        domestic_abuse(s, hh, adults, kids)
    teens = [k for k in kids if 12 <= age(s, k) < 18]
    if teens and rng.random() < 0.12:
        missing(s, rng.choice(teens))
    if teens and rng.random() < 0.05:
        child_custody(s, hh, rng.choice(teens))
    if adults and rng.random() < 0.06:
        adult_custody(s, rng.choice(adults))
    if kids and rng.random() < 0.06:
        child_victim(s, hh, rng.choice(kids))
    if kids and rng.random() < 0.004:
        police_protection(s, rng.choice(kids))
    if adults and rng.random() < 0.08:
        intelligence(s, rng.choice(adults))
    if adults and rng.random() < 0.01:
        expired_wanted(s, rng.choice(adults))
    if hh.shape in _CHILDLESS and adults and not kids and rng.random() < 0.012:
        wanted(s, rng.choice(adults))
    if hh.shape == "father_son":
        father, son = hh.members[0], hh.members[2]
        when = s.slot([hh.home], s.w.past(2000))
        s.event("police", "incident", when, [(father, "reporting_person"), (son, "witness")],
                [(hh.home, "location")], reference=reference(s, when), status="closed",
                description="Disturbance in the street outside the address")


def fresh_adult(s: Scope, sex: str, lo: int = 20, hi: int = 55) -> Person:
    """Someone from elsewhere in the county: an ex-partner, a suspect, an associate."""
    w, rng = s.w, s.rng
    town = w.county.pick_town(rng)
    p = w.person(town.pick_community(rng), sex, rng.randrange(lo, hi + 1))
    p.home = w.county.new_home(rng, town, flat_rate=0.5)
    p.since = w.ref - timedelta(days=rng.randrange(100, 3000))
    return p


def crime_victim(s: Scope, hh: Household, victim: Person) -> None:
    w, rng = s.w, s.rng
    when = s.slot([hh.home], w.past(2000))
    people = [(victim, "victim")]
    if rng.random() < 0.45:
        suspect = fresh_adult(s, "M", 20, 45)
        w.pnc_for(suspect, when.year)
        people.append((suspect, "suspect"))
    s.event("police", "crime", when, people, [(hh.home, "location")], reference=reference(s, when),
            status=rng.choice(("filed", "undetected", "charged")), description=rng.choice(_CRIMES))


def incident(s: Scope, hh: Household, adults: list[Person]) -> None:
    w, rng = s.w, s.rng
    town = w.county.by_name[hh.home.town]
    at_home = rng.random() < 0.6
    place = hh.home if at_home else rng.choice(town.places)
    when = s.slot([place], w.past(2200))
    people = [(adults[0], "reporting_person")] + [(a, "witness") for a in adults[1:3]]
    if rng.random() < 0.55:    # the other party: a neighbour, another driver
        people.append((fresh_adult(s, rng.choice("MF"), 20, 75), rng.choice(("witness", "subject"))))
    s.event("police", "incident", when, people, [(place, "location")], status="closed",
            reference=reference(s, when), description=rng.choice(_INCIDENTS))


def domestic_abuse(s: Scope, hh: Household, adults: list[Person], kids: list[Person]) -> None:
    w, rng = s.w, s.rng
    partner = next(((a, b) for a, rel, b in hh.links if rel == "partner_of"
                    and age(s, a) >= 18 and age(s, b) >= 18), None)
    if partner is not None:
        man, woman = partner if partner[0].sex == "M" else (partner[1], partner[0])
        relation = "partner_of"
    elif hh.shape == "single_parent" and adults:
        woman, man, relation = adults[0], fresh_adult(s, "M" if adults[0].sex == "F" else "F"), "ex_partner_of"
    else:
        return
    victim, perp = (woman, man) if rng.random() < 0.85 else (man, woman)
    when = w.past(2200)
    if abs((w.ref - when.date()).days - 365) < 4:      # keep clear of the query's window edge
        when -= timedelta(days=8)
    when = s.slot([hh.home], when)
    present = [k for k in kids if k.home is hh.home and k.dob < when.date() and rng.random() < 0.7]
    risk = rng.choice(("standard", "standard", "standard", "medium", "medium", "high"))
    people = [(victim, "victim"), (perp, "perpetrator")] + [(k, "involved_child") for k in present]
    rid = s.event("police", "domestic_abuse", when, people, [(hh.home, "location")], risk=risk,
                  reference=reference(s, when), status=rng.choice(("crimed", "non-crime", "arrest")),
                  description="Verbal argument escalated; DASH completed", concern="domestic abuse")
    s.relate("police", victim, relation, perp)
    if risk == "high":
        w.pnc_for(perp, when.year)
        s.flag("police", victim, "high_risk_da_victim", when.date())
        s.flag("police", perp, "da_perpetrator", when.date())
        marac(s, hh, victim, perp, relation, present, when)
    del rid


def marac(s: Scope, hh: Household, victim: Person, perp: Person, relation: str,
          kids: list[Person], after: datetime) -> None:
    w, rng = s.w, s.rng
    day = s.slot([hh.home], at(after.date() + timedelta(days=rng.randrange(14, 35)), 10))
    if day.date() >= w.ref - timedelta(days=1):
        return
    people = [(victim, "victim"), (perp, "perpetrator")] + [(k, "involved_child") for k in kids]
    s.event("marac", "marac_case", day, people, [(hh.home, "location")], risk="high", date_only=True,
            status="actions agreed", description="Repeat high-risk domestic abuse")
    s.relate("marac", victim, relation, perp)
    for k in kids:
        s.relate("marac", victim, "parent_of", k)
    s.flag("marac", victim, "high_risk_da_victim", day.date())


def missing(s: Scope, teen: Person) -> None:
    """One or two closed episodes; found at no address or at a place used once."""
    w, rng = s.w, s.rng
    home = teen.home
    assert home is not None
    episodes = rng.choice((1, 1, 2))
    if home.shared:        # at most two background episodes per care home, at any size
        used = w.care_home_episodes.get(home, 0)
        episodes = min(episodes, 2 - used)
        if episodes <= 0:
            return
        w.care_home_episodes[home] = used + episodes
    for n in range(1, episodes + 1):
        when = s.slot([home], w.past(min(1500, (w.ref - teen.dob).days - 4000)))
        back = when + timedelta(hours=rng.randrange(3, 40))
        places = [(home, "missing_from")]
        if rng.random() < 0.4:
            places.append((w.county.new_home(rng, flat_rate=0.5), "found_at"))
        s.event("police", "missing_episode", when, [(teen, "missing_person")], places, ended=back,
                status=rng.choice(("closed", "found")), risk=rng.choice(("low", "medium")),
                reference=reference(s, when), concern="missing child",
                attrs={"reported_at": when.isoformat(), "found_at_time": back.isoformat(),
                       "episode_number": n})


def child_custody(s: Scope, hh: Household, teen: Person) -> None:
    """A detained child; the appropriate adult arrives within half an hour to three and a half."""
    w, rng = s.w, s.rng
    if age(s, teen) < 14:
        return
    when = w.past(min(1200, (w.ref - teen.dob).days - 5000))
    suite = rng.choice(w.county.custody)
    when = s.slot([suite], when)
    w.pnc_for(teen, when.year)
    arrived = when + timedelta(minutes=rng.randrange(30, 210))
    carer = next(iter(hh.parents_of(teen)), None)
    people = [(teen, "detained")] + ([(carer, "appropriate_adult")] if carer else [])
    s.event("police", "custody", when, people, [(suite, "location")], reference=reference(s, when),
            status=rng.choice(("released under investigation", "charged", "NFA")),
            concern="child detained",
            attrs={"detained_at": when.isoformat(),
                   "appropriate_adult_requested_at": (when + timedelta(minutes=10)).isoformat(),
                   "appropriate_adult_arrived_at": arrived.isoformat(), "charged": False,
                   "bail_refused": False})


def adult_custody(s: Scope, person: Person) -> None:
    w, rng = s.w, s.rng
    suite = rng.choice(w.county.custody)
    when = s.slot([suite], w.past(2500))
    if age(s, person, when) < 18:
        return
    w.pnc_for(person, when.year)
    s.event("police", "custody", when, [(person, "detained")], [(suite, "location")],
            reference=reference(s, when), status=rng.choice(("charged", "NFA", "bailed")),
            attrs={"detained_at": when.isoformat(), "charged": rng.random() < 0.4,
                   "bail_refused": False})


def child_victim(s: Scope, hh: Household, kid: Person) -> None:
    w, rng = s.w, s.rng
    if kid.home is None or (w.ref - kid.dob).days < 3000:
        return
    place = kid.home if rng.random() < 0.5 else rng.choice(w.county.by_name[hh.home.town].places)
    when = s.slot([place], w.past(min(1500, (w.ref - kid.dob).days - 2900)))
    s.event("police", "crime", when, [(kid, "victim")], [(place, "location")],
            reference=reference(s, when), status="under investigation",
            description=rng.choice(("assault", "robbery of mobile phone", "malicious communications")),
            concern="child victim of crime")


def police_protection(s: Scope, kid: Person) -> None:
    """Section 46, ended well inside 72 hours, with a PPN."""
    w, rng = s.w, s.rng
    if kid.home is None:
        return
    when = s.slot([kid.home], w.past(min(1500, max(20, (w.ref - kid.dob).days - 10))))
    end = when + timedelta(hours=rng.randrange(4, 70))
    s.event("police", "police_protection", when, [(kid, "involved_child")], [(kid.home, "location")],
            ended=end, reference=reference(s, when), status="ended",
            attrs={"started_at": when.isoformat(), "ended_at": end.isoformat()})
    s.notify([kid], when, "police protection", via_referral=False)


def intelligence(s: Scope, subject: Person) -> None:
    w, rng = s.w, s.rng
    other = fresh_adult(s, rng.choice("MF"), 20, 50)
    when = w.past(1800)
    s.event("police", "intelligence", when, [(subject, "subject"), (other, "associate")],
            description=rng.choice(("Seen in company of", "Believed to be associating with",
                                    "Vehicle sighting with")), reference=f"INT{rng.randrange(10**6):06d}")
    s.relate("police", subject, "associate_of", other)


def wanted(s: Scope, person: Person) -> None:
    w, rng = s.w, s.rng
    start = w.ref - timedelta(days=rng.randrange(10, 900))
    w.pnc_for(person, start.year)
    s.flag("police", person, "wanted", start, None, rng.choice(_WANTED_FOR))


def expired_wanted(s: Scope, person: Person) -> None:
    w, rng = s.w, s.rng
    start = w.ref - timedelta(days=rng.randrange(800, 3000))
    w.pnc_for(person, start.year)
    s.flag("police", person, "wanted", start, start + timedelta(days=rng.randrange(5, 300)),
           rng.choice(_WANTED_FOR) + " (arrested)")
