"""Hard negatives planted for certain: people a linker must keep apart.

Ordinary households make these too (twins, father and son with one name, house
shares, common names); these make sure every county has them, whatever its size.
"""
from __future__ import annotations

from kglink.synth.households import make_household, twin
from kglink.synth.scenarios.common import days_ago, enrol, infants, lone_adult, mother_and_children, scope
from kglink.synth.world import World


def _count(w: World, what: str) -> None:
    w.hard_negatives[what] = w.hard_negatives.get(what, 0) + 1


def common_names(w: World) -> None:
    """Several John Smiths and Mohammed Khans in one town, each with his own dob and home."""
    town = w.county.by_name["Luton"]
    for forenames, surname, community, n in ((["John"], "Smith", "white_british", 4),
                                             (["Mohammed"], "Khan", "pakistani", 3)):
        for i in range(n):
            s = scope(w)
            p = lone_adult(w, "M", 24 + 11 * i, community=community, town=town,
                           forenames=list(forenames), surname=surname)
            assert p.home is not None
            s.event("police", "incident", days_ago(w, 100 + 37 * i, 14), [(p, "reporting_person")],
                    [(p.home, "location")], status="closed", description="Vehicle damaged overnight")
            s.close()
            _count(w, "common_name")


def father_and_son(w: World) -> None:
    for _ in range(2):
        s = scope(w)
        hh = make_household(w, "father_son")
        father, son = hh.members[0], hh.members[2]
        s.event("police", "incident", days_ago(w, 300, 23), [(father, "reporting_person"), (son, "witness")],
                [(hh.home, "location")], status="closed", description="Criminal damage to the family car")
        s.relate("police", father, "parent_of", son)
        s.close()


def twins(w: World) -> None:
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [9])
    second = twin(w, hh, [mother], kids[0])
    second.home, second.since = hh.home, kids[0].since
    enrol(s, hh, [kids[0], second], [mother])
    s.close()
    s = scope(w)
    hh, mother, kids = mother_and_children(w, [2], community="pakistani", mother_age=29)
    second = twin(w, hh, [mother], kids[0])
    second.home, second.since = hh.home, kids[0].since
    infants(s, [kids[0], second], mother)
    s.close()


def house_share(w: World) -> None:
    s = scope(w)
    hh = make_household(w, "house_share")
    people = [(p, "witness") for p in hh.members]
    s.event("police", "incident", days_ago(w, 220, 2), people, [(hh.home, "location")], status="closed",
            description="Party noise; all occupants spoken to")
    s.close()


SCENARIOS = (common_names, father_and_son, twins, house_share)
