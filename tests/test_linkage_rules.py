"""Comparison levels asked for by name, and the evidence rules that ask for them."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from kglink.linkage.comparisons import UnknownName
from kglink.linkage.evidence import PairLevels, Pairs, Records
from kglink.linkage.registry import ADDRESS_COMPARISONS, PERSON_COMPARISONS, comparisons_for, generic_comparison

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
                                     "generation_gap, twin, twin_name, dob_conflict,"),
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
    # ... and the one reason that is not a rule: names_only pairs queued by rare_names.
    assert set(rules.MEANING) == {"model", *(f"rule:{n}" for n in rules.RULES), "rule:rare_full_name"}


# ---- each rule's two forms agree ------------------------------------------------------

@pytest.fixture(scope="module", params=["kglink", "varied"])
def small_county(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A small synthetic county of each style, loaded and linked (the person table places
    records at the address entities)."""
    from kglink.linkage.run import link
    from kglink.loaders.load import load_extracts
    from kglink.synth import generate
    from kglink.workspace import open_workspace

    root = tmp_path_factory.mktemp(f"rules-{request.param}")
    generate(root / "county", households=400, seed=11, style=request.param)
    ws = open_workspace(root / "ws")
    load_extracts(ws, sorted(p for p in (root / "county").iterdir() if (p / "manifest.json").exists()))
    link(ws)
    return ws


def _pairs_to_check(t, st, rng: np.random.Generator, n_random: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Every candidate pair (alike records, where the rules matter) and random pairs."""
    from kglink.linkage.blocking import candidate_pairs

    left, right, _ = candidate_pairs(t, st)
    a, b = rng.integers(0, t.n, n_random), rng.integers(0, t.n, n_random)
    keep = a != b
    return (np.concatenate([left, np.minimum(a, b)[keep]]), np.concatenate([right, np.maximum(a, b)[keep]]))


@pytest.mark.parametrize("kind", ["person", "address"])
def test_each_rule_s_vectorised_and_per_pair_forms_agree(small_county, kind: str) -> None:  # type: ignore[no-untyped-def]
    from kglink.linkage import rules
    from kglink.linkage.entities import entity_map
    from kglink.linkage.prepare import address_table, person_table
    from kglink.linkage.registry import comparison_vectors
    from kglink.linkage.settings import default_settings

    ws = small_county
    st = default_settings(kind)
    extra = ("flat", "number") if kind == "address" else ()
    st = st.model_copy(update={"comparisons": st.comparisons + extra, "evidence_rules": tuple(rules.rules_for(kind))})
    t = (address_table(ws) if kind == "address"
         else person_table(ws, entity_map(ws, "address"), st.crowded_address_people))
    comps = comparisons_for(kind, st.comparisons)
    left, right = _pairs_to_check(t, st, np.random.default_rng(5), 20_000)
    gamma = comparison_vectors(t, comps, left, right, processes=1)
    p = PairLevels(kind, comps, gamma)
    individual = np.zeros(len(left), dtype=bool)
    for name in st.individual_evidence:
        individual |= p.at_most(name, p.comparison(name).agreeing)
    x = Pairs(t, st, left, right, p, individual)
    r = Records(t, st)
    checked = []
    for rule in rules.rules_for(kind).values():
        if rule.pair is None:
            continue
        vec, test = rule.pairs(x), rule.pair(r)
        assert (vec is None) == (test is None), rule.name
        if vec is None or test is None:
            continue
        per = np.array([test(int(i), int(j)) for i, j in zip(left, right)], dtype=bool)
        differ = np.flatnonzero(vec != per)
        assert len(differ) == 0, (rule.name, len(differ), [(int(left[k]), int(right[k])) for k in differ[:5]])
        assert vec.any() and not vec.all(), rule.name      # the pairs put the rule to the test
        checked.append(rule.name)
    assert set(checked) == {n for n, rule in rules.rules_for(kind).items() if rule.pair is not None} - (
        {"related_records"} if kind == "address" else set())


@settings(max_examples=300, deadline=None)
@given(hs.lists(hs.tuples(hs.text("ABCDE FGH", max_size=9), hs.text("ABCDE FGH", max_size=9)), min_size=1,
                max_size=20),
       hs.sampled_from([0.80, 0.90, 0.92]))
def test_one_pair_reaches_a_threshold_as_many_pairs_do(pairs: list[tuple[str, str]], threshold: float) -> None:
    """jw_reaches (the per-pair forms) decides as jaro_winkler (the levels) does, float32
    and all: a score of exactly 0.8 reaches 0.8 in both."""
    from kglink.linkage.comparisons import jaro_winkler, jw_reaches

    a = np.array([x for x, _ in pairs], dtype=object)
    b = np.array([y for _, y in pairs], dtype=object)
    many = jaro_winkler(a, b, cutoff=threshold) >= threshold
    assert many.tolist() == [jw_reaches(x, y, threshold) for x, y in pairs]
    assert jw_reaches("AMELIA", "ANGELA", 0.80)     # 0.7999999999999999 as a double


@settings(max_examples=100, deadline=None)
@given(hs.data())
def test_the_rules_decide_the_same_whatever_the_order_of_the_comparisons(data: hs.DataObject) -> None:
    """Rules ask for levels by name: random level vectors, and the same vectors with the
    comparisons in another order, give the same statuses and reasons."""
    from kglink.linkage import rules
    from kglink.linkage.prepare import Table
    from kglink.linkage.settings import person_settings

    base = person_settings()
    comps = comparisons_for("person", base.comparisons)
    n = data.draw(hs.integers(1, 12))
    t = Table("person", [f"t:{i:03d}" for i in range(2 * n)])
    t.cols["dob"] = np.array(data.draw(hs.lists(hs.sampled_from(["", "19800101", "20100101"]),
                                                min_size=2 * n, max_size=2 * n)), dtype=object)
    gamma = np.array([[data.draw(hs.integers(-1, c.n_levels - 1)) for c in comps] for _ in range(n)], dtype=np.int8)
    prob = np.array(data.draw(hs.lists(hs.floats(0, 1), min_size=n, max_size=n)))
    left, right = np.arange(n, dtype=np.int64), np.arange(n, 2 * n, dtype=np.int64)
    order = data.draw(hs.permutations(list(range(len(comps)))))
    shuffled = base.model_copy(update={"comparisons": tuple(base.comparisons[k] for k in order)})
    first = rules.apply(t, base, comps, gamma, prob, left, right)
    second = rules.apply(t, shuffled, [comps[k] for k in order], gamma[:, order], prob, left, right)
    assert first[0].tolist() == second[0].tolist() and first[1].tolist() == second[1].tolist()


def test_a_model_saved_with_settings_no_longer_valid_is_retrained_not_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kglink.linkage.settings import person_settings
    from kglink.linkage.store import load_model
    from kglink.workspace import open_workspace

    ws = open_workspace(tmp_path / "ws")
    old = person_settings().model_dump(mode="json")
    old["evidence_rules"] = ["twinn"]           # a rule kglink does not know (any more)
    with ws.transaction() as c:
        c.execute("INSERT INTO models (kind, trained_at, settings, parameters) VALUES (?,?,?,?)",
                  ("person", "2026-12-05T00:00:00+00:00", json.dumps(old), "{}"))
    assert load_model(ws, person_settings()) is None
