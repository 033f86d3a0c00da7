"""Scenarios: open missing episodes and their likely locations; repeat missing places."""
from __future__ import annotations

from datetime import datetime, timedelta

from kglink.synth.model import Address, Person
from kglink.synth.scenarios.common import (days_ago, finding, home_of, lone_adult, mother_and_children,
                                           scope)
from kglink.synth.scope import Scope
from kglink.synth.world import World

LIKELY = "missing-child-likely-locations"
REPEAT = "repeat-missing-locations"


def episode(s: Scope, child: Person, when: datetime, missing_from: Address, *,
            found_at: Address | None = None, hours: int | None = 8, number: int = 1,
            status: str = "closed") -> str:
    """A missing episode; hours=None leaves it open."""
    places = [(missing_from, "missing_from")] + ([(found_at, "found_at")] if found_at else [])
    ended = when + timedelta(hours=hours) if hours is not None else None
    attrs: dict[str, object] = {"reported_at": when.isoformat(), "episode_number": number}
    if ended:
        attrs["found_at_time"] = ended.isoformat()
    return s.event("police", "missing_episode", when, [(child, "missing_person")], places, ended=ended,
                   status=status, risk="high" if hours is None else "medium", attrs=attrs,
                   reference=f"MIS/{s.rng.randrange(10**5):05d}", concern="missing child")


def _associate(s: Scope, child: Person, other: Person, agency: str = "police") -> None:
    s.person("police", other)                 # the police know where the associate lives
    if agency == "police":
        s.event("police", "intelligence", days_ago(s.w, 100, 20), [(child, "subject"), (other, "associate")],
                description="Seen getting into associate's car", reference=f"INT{s.rng.randrange(10**6):06d}")
    else:
        s.person(agency, other, home=False)
    s.relate(agency, child, "associate_of", other)


def _looked_after(s: Scope, child: Person, home: Address, flags: tuple[str, ...] = ()) -> None:
    child.home, child.home_relation = home, "placed_at"
    child.since = s.w.ref - timedelta(days=s.rng.randrange(200, 700))
    s.person("childrens_social_care", child)
    s.flag("childrens_social_care", child, "looked_after_child", child.since)
    for f in flags:
        s.flag("childrens_social_care", child, f, child.since + timedelta(days=30))


# -- missing-child-likely-locations ----------------------------------------------------------
def likely_associate_home(w: World) -> None:
    """The inspection's case: a girl missing 18 hours stayed with an associate named earlier."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [15])
    girl = kids[0]
    assoc = lone_adult(w, "M", 22)
    _associate(s, girl, assoc)
    earlier = w.county.new_home(s.rng, flat_rate=0.8)
    episode(s, girl, days_ago(w, 200, 21), hh.home, found_at=earlier, hours=14)
    rid = episode(s, girl, days_ago(w, 1, 18, 30), hh.home, hours=None, number=2, status="open")
    finding(s, LIKELY, "finding", "associate-home", events=[("police", rid)],
            people=[(girl, "child"), (assoc, "associate")],
            addresses=[(home_of(assoc), "associate_home"), (earlier, "found_at")])
    s.close()


def likely_earlier_found_at(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [14], community="pakistani")
    boy = kids[0]
    town = w.county.by_name[hh.home.town]
    shop, friend = town.places[3], w.county.new_home(s.rng)
    for n, (days, place) in enumerate(((400, shop), (250, friend), (90, shop)), 1):
        episode(s, boy, days_ago(w, days, 22), hh.home, found_at=place, number=n)
    rid = episode(s, boy, days_ago(w, 2, 16), hh.home, hours=None, number=4, status="open")
    finding(s, LIKELY, "finding", "earlier-found-at", events=[("police", rid)], people=[(boy, "child")],
            addresses=[(shop, "found_at"), (friend, "found_at")], note="the shop was found-at twice")
    s.close()


def likely_looked_after_child(w: World) -> None:
    """Placed in a children's home; the associate is recorded by social care only."""
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [16])
    girl = kids[0]
    care = w.county.care_home(s.rng)
    _looked_after(s, girl, care, ("cse_risk",))
    assoc = lone_adult(w, "M", 24)
    _associate(s, girl, assoc, agency="childrens_social_care")
    flat = w.county.new_home(s.rng, flat_rate=1.0)
    for n, days in enumerate((300, 120), 1):
        episode(s, girl, days_ago(w, days, 23), care, found_at=flat, number=n, hours=20)
    rid = episode(s, girl, days_ago(w, 3, 22), care, hours=None, number=3, status="open")
    finding(s, LIKELY, "finding", "looked-after-child-associate-in-social-care",
            events=[("police", rid)], people=[(girl, "child"), (assoc, "associate")],
            addresses=[(home_of(assoc), "associate_home"), (flat, "found_at")])
    s.close()


def likely_two_associates(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [13], community="black_african")
    boy = kids[0]
    first, second = lone_adult(w, "M", 21), lone_adult(w, "M", 26)
    _associate(s, boy, first)
    _associate(s, boy, second)
    rid = episode(s, boy, days_ago(w, 2, 7), hh.home, hours=None, status="open")
    finding(s, LIKELY, "finding", "two-associates-no-earlier-episodes", events=[("police", rid)],
            people=[(boy, "child")],
            addresses=[(home_of(first), "associate_home"), (home_of(second), "associate_home")])
    s.close()


def likely_decoys(w: World) -> None:
    for scenario, age, hours, status in (("closed-episode", 15, 10, "found"),
                                         ("adult-missing-open", 24, None, "open"),
                                         ("status-found-no-end-time", 14, None, "found")):
        s = scope(w)
        if age >= 18:
            person = lone_adult(w, "F", age)
            home = person.home
        else:
            hh, mother, kids = mother_and_children(w, [age])
            person, home = kids[0], hh.home
        assert home is not None
        rid = episode(s, person, days_ago(w, 4, 20), home, hours=hours, status=status)
        finding(s, LIKELY, "no_finding", scenario, events=[("police", rid)])
        s.close()


# -- repeat-missing-locations ---------------------------------------------------------------------
def repeat_missing(w: World) -> None:
    """Two children's homes and a foyer that children go missing from again and again, and
    three places where they are found. Counts are far above anything in the background."""
    s = scope(w)
    rng = s.rng
    town = w.county.by_name["Luton"]
    homes = [w.county.care_home(rng), w.county.institution(rng, town, "Kingfisher Foyer",
                                                           "supported_accommodation"),
             w.county.care_home(rng)]
    found = [w.county.new_home(rng, town, flat_rate=1.0),
             w.county.institution(rng, town, "Peri Peri Grill", "business"),
             w.county.institution(rng, town, "Luton Interchange", "other")]
    plan = ((0, 15, 9), (0, 14, 5), (1, 16, 6), (1, 16, 3), (2, 13, 4), (2, 15, 3))
    slots: list[Address | None] = []
    for place, times in zip(found, (8, 6, 5)):
        slots += [place] * times
    slots += [None] * (sum(n for _, _, n in plan) - len(slots))
    rng.shuffle(slots)
    kids: list[Person] = []
    for home_i, age, episodes in plan:
        hh, mother, (kid,) = mother_and_children(w, [age])
        _looked_after(s, kid, homes[home_i], ("repeat_missing",) if episodes >= 5 else ())
        kids.append(kid)
        for n in range(1, episodes + 1):
            when = s.slot([homes[home_i]], days_ago(w, rng.randrange(20, 540), rng.randrange(15, 24)))
            episode(s, kid, when, homes[home_i], found_at=slots.pop(), number=n, hours=rng.randrange(3, 30))
    counts = {"missing_from": (14, 9, 7), "found_at": (8, 6, 5), "child": (9, 6, 5)}
    for rank, (addr, n) in enumerate(zip(homes, counts["missing_from"]), 1):
        finding(s, REPEAT, "finding", f"missing-from-rank-{rank}", addresses=[(addr, "subject")],
                note=f"role=missing_from; rank={rank}; episodes={n}")
    for rank, (addr, n) in enumerate(zip(found, counts["found_at"]), 1):
        finding(s, REPEAT, "finding", f"found-at-rank-{rank}", addresses=[(addr, "subject")],
                note=f"role=found_at; rank={rank}; episodes={n}")
    for rank, (kid, n) in enumerate(zip((kids[0], kids[2], kids[1]), counts["child"]), 1):
        finding(s, REPEAT, "finding", f"child-rank-{rank}", people=[(kid, "subject")],
                note=f"role=child; rank={rank}; episodes={n}")
    s.close()


def repeat_decoys(w: World) -> None:
    """A sofa-surfing 20-year-old missing seven times (not a child); a one-episode home."""
    s = scope(w)
    adult = lone_adult(w, "M", 20)
    for n in range(1, 8):
        where = w.county.new_home(s.rng, flat_rate=0.7)
        episode(s, adult, days_ago(w, 30 + 60 * n, 22), where, number=n, hours=30)
    finding(s, REPEAT, "no_finding", "adult-missing-seven-times", people=[(adult, "subject")])
    s.close()
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [14])
    episode(s, kids[0], days_ago(w, 75, 23), hh.home)
    finding(s, REPEAT, "no_finding", "single-episode-home", addresses=[(hh.home, "subject")])
    s.close()


SCENARIOS = (
    likely_associate_home, likely_earlier_found_at, likely_looked_after_child, likely_two_associates,
    likely_decoys, repeat_missing, repeat_decoys,
)
