"""Comparison levels asked for by name, and the evidence rules that ask for them."""
from __future__ import annotations

import numpy as np
import pytest

from kglink.linkage.comparisons import UnknownName
from kglink.linkage.registry import ADDRESS_COMPARISONS, PERSON_COMPARISONS, comparisons_for, generic_comparison
from kglink.linkage.rules import PairLevels

ALL = [*PERSON_COMPARISONS.values(), *ADDRESS_COMPARISONS.values(),
       *(generic_comparison(n) for n in ("exact:col", "jw:col", "jw:col~other"))]


@pytest.mark.parametrize("comp", ALL, ids=lambda c: c.name)
def test_every_level_has_a_name_a_label_and_its_code(comp) -> None:  # type: ignore[no-untyped-def]
    assert comp.n_levels == len(comp.labels) == len({lv.name for lv in comp.levels}) >= 2
    for code, lv in enumerate(comp.levels):
        assert comp.level(lv.name) == code and comp.labels[code] == lv.label and lv.label
    assert comp.levels[0].name in ("exact", "same_home", "same_child")    # the strongest first


def test_an_unknown_level_is_an_error_listing_the_known_ones() -> None:
    dob = PERSON_COMPARISONS["dob"]
    with pytest.raises(UnknownName, match="unknown level of comparison dob 'equal'; known: exact, swapped, "
                                          "one_apart, same_year, different"):
        dob.level("equal")
    with pytest.raises(UnknownName, match="unknown person comparison 'dobb'; known: forename, surname, dob"):
        comparisons_for("person", ("dobb",))


def test_pair_levels_at_at_most_and_beyond_by_name() -> None:
    comps = comparisons_for("person", ("forename", "dob"))
    gamma = np.array([[0, 0], [5, 2], [-1, 3], [1, -1]], dtype=np.int8)
    p = PairLevels("person", comps, gamma)
    assert p.at("forename", "different").tolist() == [False, True, False, False]
    assert p.at_most("forename", "nickname_or_middle").tolist() == [True, False, False, True]
    assert p.beyond("dob", "one_apart").tolist() == [False, False, True, False]     # missing is not beyond
    assert p.at_most("dob", "one_apart").tolist() == [True, True, False, False]     # nor at most
    # A comparison the settings leave out is missing on every pair; its level names still count.
    assert not p.at("location", "same_home").any() and "location" not in p
    with pytest.raises(UnknownName, match="known: same_home, same_shared"):
        p.at("location", "home")
    with pytest.raises(UnknownName):
        p.at_most("forename", "jw_0.9")
