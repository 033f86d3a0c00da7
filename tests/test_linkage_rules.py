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


def _with(**update: object) -> dict[str, object]:
    from kglink.linkage.settings import person_settings

    return {**person_settings().model_dump(), **update}


@pytest.mark.parametrize("update,message", [
    ({"evidence_rules": ("twinn",)}, "unknown person evidence rule 'twinn'; known: conflicting_identifier, "
                                     "same_identifier, generation_gap, twin,"),
    ({"evidence_rules": ("different_street",)}, "unknown person evidence rule 'different_street'"),
    ({"comparisons": ("forename", "dobb")}, "unknown person comparison 'dobb'; known: forename, surname, dob,"),
    ({"tf_adjust": ("surnam",)}, "unknown comparison in tf_adjust 'surnam'; known: forename, surname, dob,"),
    ({"strong_identifiers": ("nhs",)}, "unknown comparison in strong_identifiers 'nhs'"),
    ({"blocking_rules": ({"name": "x", "keys": ("dob", "nhs_numbr")},)},
     "unknown blocking key 'nhs_numbr'; known: nhs_number, pnc_id,"),
    ({"training_rules": ({"name": "x", "keys": ("col:",)},)}, "unknown blocking key 'col:'"),
    ({"comparisons": ("forename", "surname", "sex", "location", "nhs_number", "pnc_id", "upn")},
     "the evidence rule dob_conflict reads the comparison dob, which the settings leave out"),
])
def test_settings_with_a_name_no_registry_knows_are_refused(update: dict[str, object], message: str) -> None:
    from pydantic import ValidationError

    from kglink.linkage.settings import LinkageSettings

    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        LinkageSettings.model_validate(_with(**update))


def test_the_default_settings_and_every_rule_registered_validate() -> None:
    from kglink.linkage import rules
    from kglink.linkage.settings import LinkageSettings, address_settings, person_settings

    for s in (person_settings(), address_settings()):
        assert LinkageSettings.model_validate_json(s.model_dump_json()) == s
    every = LinkageSettings.model_validate(_with(evidence_rules=rules.PERSON_RULES))
    assert every.evidence_rules == rules.PERSON_RULES
    assert set(rules.MEANING) == {"model", *(f"rule:{n}" for n in rules.RULES)}
