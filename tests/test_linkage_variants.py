"""First-name variants learnt from the records (kglink/linkage/variants.py): what makes
two names variants, what keeps twins' names apart, and that the comparison, clustering's
per-pair test and a saved model's run all read them alike. Synthetic people only."""
from __future__ import annotations

import numpy as np

from kglink.linkage import variants
from kglink.linkage.comparisons import slips_of
from kglink.linkage.evidence import Records
from kglink.linkage.prepare import Table, _obj
from kglink.linkage.registry import comparison_vectors, comparisons_for
from kglink.linkage.settings import person_settings

# (key, first names, surname, date of birth, sex, home)
Row = tuple[str, str, str, str, str, str]


def _table(rows: list[Row], parents: dict[str, list[str]] | None = None,
           related: dict[str, list[str]] | None = None) -> Table:
    n = len(rows)
    t = Table("person", [r[0] for r in rows])
    empty = _obj([""] * n)
    t.cols.update(forenames_all=_obj([r[1] for r in rows]), forename=_obj([r[1].split(" ")[0] for r in rows]),
                  surname=_obj([r[2] for r in rows]), dob=_obj([r[3] for r in rows]),
                  sex=_obj([r[4] for r in rows]), nhs_number=empty, pnc_id=empty, upn=empty,
                  phone=empty, email=empty)
    t.multi.update(names=[[f"{r[1]}\x1f{r[2]}"] for r in rows],
                   address_entity=[[r[5]] if r[5] else [] for r in rows],
                   parent_records=[(parents or {}).get(r[0], []) for r in rows],
                   related=[(related or {}).get(r[0], []) for r in rows])
    return t


def _family(n: int, a: str, b: str, surname: str, dob: str = "19910118", sex: str = "F") -> list[Row]:
    """One woman known to education by one name and to health by the other, at her home."""
    return [(f"education:E{n}", a, surname, dob, sex, f"home{n}"),
            (f"health:H{n}", b, surname, dob, sex, f"home{n}")]


def test_two_families_showing_two_names_as_one_person_make_them_variants() -> None:
    t = _table(_family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "MALGORZATA", "GOSIA", "KRAWCZYK"))
    assert variants.learn(t) == {"GOSIA\x1fMALGORZATA": 2.0}


def test_one_family_is_not_enough() -> None:
    t = _table(_family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "ANNA", "ANNA", "KRAWCZYK"))
    assert variants.learn(t) == {}


def test_a_slip_in_the_surname_or_the_date_of_birth_still_shows_the_family() -> None:
    one = _family(1, "GOSIA", "MALGORZATA", "NOWAK")
    surname_slip = [("education:E2", "GOSIA", "KWIATKOWSKA", "19950222", "F", "home2"),
                    ("health:H2", "MALGORZATA", "KWIAKOWSKA", "19950222", "F", "home2")]
    dob_slip = [("education:E2", "GOSIA", "KWIATKOWSKA", "19950222", "F", "home2"),
                ("health:H2", "MALGORZATA", "KWIATKOWSKA", "19950221", "F", "home2")]
    both = [("education:E2", "GOSIA", "KWIATKOWSKA", "19950222", "F", "home2"),
            ("health:H2", "MALGORZATA", "KWIAKOWSKA", "19950221", "F", "home2")]
    assert variants.learn(_table(one + surname_slip)) == {"GOSIA\x1fMALGORZATA": 2.0}
    assert variants.learn(_table(one + dob_slip)) == {"GOSIA\x1fMALGORZATA": 2.0}
    assert variants.learn(_table(one + both)) == {}     # one slip at a time


def test_no_place_in_common_shows_nothing() -> None:
    rows = _family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "GOSIA", "MALGORZATA", "KRAWCZYK")
    rows[3] = rows[3][:5] + ("elsewhere",)
    assert variants.learn(_table(rows)) == {}


def test_records_of_one_family_count_once() -> None:
    """Three records of one woman (two agencies under one name) are one family, not two."""
    rows = _family(1, "GOSIA", "MALGORZATA", "NOWAK") + [("police:P1", "GOSIA", "NOWAK", "19910118", "F", "home1")]
    assert variants.learn(_table(rows)) == {}


def test_twins_named_as_one_parents_children_bar_their_names() -> None:
    rows = (_family(1, "JACOB", "JOSEPH", "SMITH", "20150301", "M")
            + _family(2, "JOSEPH", "JACOB", "JONES", "20160401", "M")
            + [("education:T1", "JACOB", "BROWN", "20170501", "M", "home9"),
               ("education:T2", "JOSEPH", "BROWN", "20170501", "M", "home9")])
    assert variants.learn(_table(rows)) == {"JACOB\x1fJOSEPH": 2.0}
    parent = {"education:T1": ["education:M9"], "education:T2": ["education:M9"]}
    assert variants.learn(_table(rows, parents=parent)) == {}
    sibling = {"education:T1": ["education:T2"]}
    assert variants.learn(_table(rows, related=sibling)) == {}


def test_twins_each_agency_holds_both_of_bar_their_names() -> None:
    """Twins no agency calls related: two agencies each hold both children born that day
    (one agency holding both may be its duplicate of one person)."""
    rows = (_family(1, "JACOB", "JOSEPH", "SMITH", "20150301", "M")
            + _family(2, "JOSEPH", "JACOB", "JONES", "20160401", "M"))
    twins = [("education:T1", "JACOB", "BROWN", "20170501", "M", "home9"),
             ("education:T2", "JOSEPH", "BROWN", "20170501", "M", "home9")]
    assert variants.learn(_table(rows + twins)) == {"JACOB\x1fJOSEPH": 2.0}
    health = [("health:U1", "JACOB", "BROWN", "20170501", "M", "home9"),
              ("health:U2", "JOSEPH", "BROWN", "20170501", "M", "home9")]
    assert variants.learn(_table(rows + twins + health)) == {}


def test_names_already_one_persons_or_of_two_sexes_are_not_learnt() -> None:
    rows = (_family(1, "ELIZABETH", "LIZ", "NOWAK") + _family(2, "LIZ", "ELIZABETH", "KRAWCZYK")
            + [("education:E3", "AIDAN", "KING", "20150301", "M", "home3"),
               ("health:H3", "AIDA", "KING", "20150301", "F", "home3"),
               ("education:E4", "AIDAN", "COLE", "20150301", "M", "home4"),
               ("health:H4", "AIDA", "COLE", "20150301", "F", "home4")])
    assert variants.learn(_table(rows)) == {}


def test_the_comparison_and_clustering_read_a_variant_as_a_nickname() -> None:
    rows = _family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "GOSIA", "MALGORZATA", "KRAWCZYK")
    st = person_settings()
    comps = comparisons_for("person", ("forename",))
    nickname = comps[0].labels.index("nickname or middle name used")
    t = _table(rows)
    assert comparison_vectors(t, comps, np.array([0]), np.array([1]))[0, 0] == nickname
    assert Records(t, st).names_compatible(0, 1)
    # Without the variants learnt (a model that learnt none), the names differ.
    bare = _table(rows)
    slips_of(bare, {"GOSIA": 0.5, "MALGORZATA": 0.5}, {})
    assert comparison_vectors(bare, comps, np.array([0]), np.array([1]))[0, 0] == comps[0].labels.index("different")
    assert not Records(bare, st).names_compatible(0, 1)


def test_a_misspelt_listed_name_is_a_variant_as_the_name_is() -> None:
    """HSRRY, a slip of HARRY (a listed name, many times commoner), is HAZ as HARRY is."""
    rows = (_family(1, "HARRY", "HAZ", "PRICE", "20220213", "M") + _family(2, "HAZ", "HARRY", "KING", "20260701", "M")
            + [(f"police:X{i}", "HARRY", f"OTHER{i}", "", "M", "") for i in range(40)]
            + [("police:P3", "HAZ", "WRIGHT", "19961022", "M", ""), ("police:P4", "HSRRY", "WRIGHT", "19961022", "M", "")])
    t = _table(rows)
    comps = comparisons_for("person", ("forename",))
    level = comparison_vectors(t, comps, np.array([len(rows) - 2]), np.array([len(rows) - 1]))[0, 0]
    assert comps[0].labels[level] == "nickname or middle name used"


def test_a_saved_models_variants_decide_for_a_table_too_small_to_learn_them() -> None:
    """`kglink explain` and an incremental link build tables of a few records: the model's
    variants, learnt on the whole workspace, decide there."""
    whole = _table(_family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "GOSIA", "MALGORZATA", "KRAWCZYK"))
    learnt = variants.of(whole)
    two = _table(_family(1, "GOSIA", "MALGORZATA", "NOWAK"))
    assert variants.learn(two) == {}
    slips_of(two, {"GOSIA": 0.5, "MALGORZATA": 0.5}, learnt)
    comps = comparisons_for("person", ("forename",))
    level = comparison_vectors(two, comps, np.array([0]), np.array([1]))[0, 0]
    assert comps[0].labels[level] == "nickname or middle name used"


def test_explain_says_a_nickname_level_rests_on_a_learnt_variant() -> None:
    """`kglink explain` names the variant and how many families showed it: no list holds it."""
    from kglink.linkage.explain import _variant_note

    t = _table(_family(1, "GOSIA", "MALGORZATA", "NOWAK") + _family(2, "ANNA", "ANNA", "KRAWCZYK"))
    learnt = {"GOSIA\x1fMALGORZATA": 4.0}
    assert _variant_note(t, learnt, 0, 1) == " (GOSIA ~ MALGORZATA: a variant 4 families in this workspace show)"
    assert _variant_note(t, learnt, 2, 3) == ""       # one name: nothing learnt to name
    assert _variant_note(t, {}, 0, 1) == ""           # a model that learnt none
