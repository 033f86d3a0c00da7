"""Linkage settings: declared, validated, round-tripped through JSON, never mutated.

Settings say *what* to compare and how to decide; the functions in blocking, comparisons,
model and cluster do it. A trained model stores the settings it was trained with.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["person", "address"]


class BlockingRule(BaseModel):
    """Candidate pairs are records sharing every one of `keys` (each a named key function)."""

    model_config = ConfigDict(frozen=True)
    name: str
    keys: tuple[str, ...]
    max_block_size: int | None = Field(
        None, ge=2, description="blocks larger than this are left out (default: the settings' "
                                "max_block_size); a rule meant for rare values says how rare")


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True)
    link: float = Field(0.95, gt=0, lt=1, description="match probability at or above which records link")
    review: float = Field(0.5, gt=0, lt=1, description="between review and link: queued for a person")

    @model_validator(mode="after")
    def _ordered(self) -> "Thresholds":
        if self.review >= self.link:
            raise ValueError("the review threshold must be below the link threshold")
        return self


class LinkageSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Kind
    comparisons: tuple[str, ...]
    blocking_rules: tuple[BlockingRule, ...]
    estimate_m: bool = Field(True, description="fit m by EM; off: each comparison's default m")
    training_rules: tuple[BlockingRule, ...] = Field(
        (), description="EM sessions, each on the pairs one rule makes; m of the comparisons "
                        "a rule forces to agree is estimated in the other sessions. Empty: one "
                        "session on all candidate pairs")
    thresholds: Thresholds = Thresholds()
    max_pairs_per_rule: int = Field(20_000_000, description="a rule making more pairs is refused")
    max_block_size: int = Field(100, description="blocks larger than this are too common to compare all pairs of")
    u_sample_pairs: int = Field(1_000_000, description="random pairs for estimating u probabilities")
    em_sample_pairs: int = Field(
        2_000_000, description="a training rule making more pairs than this trains on a seeded "
                               "random sample of this many (EM needs patterns, not every pair)")
    em_max_iterations: int = 50
    min_pairs_for_em: int = Field(2000, description="fewer candidate pairs: use the default m probabilities")
    min_agreeing_pairs: int = Field(
        50, description="a comparison agreeing (its top level) on fewer training pairs than this "
                        "keeps its default m: EM cannot tell how often matches agree on it")
    em_tolerance: float = 1e-6
    tf_adjust: tuple[str, ...] = ("surname", "forename")
    evidence_rules: tuple[str, ...] = Field(
        ("conflicting_identifier", "same_identifier", "dob_conflict", "forename_conflict",
         "parent_age", "related_records", "twin_name", "names_only", "shared_relative"),
        description="hard evidence beside the score (kglink/linkage/rules.py); the same rules "
                    "keep clusters from merging")
    strong_identifiers: tuple[str, ...] = Field(
        ("nhs_number", "pnc_id", "upn"), description="comparisons whose agreement identifies a person")
    individual_evidence: tuple[str, ...] = Field(
        ("nhs_number", "pnc_id", "upn"),
        description="comparisons that speak to the individual, not the household: when one "
                    "agrees, the generation_gap and twin rules do not apply")
    generation_gap_years: int = Field(
        12, description="years of birth this far apart are two people (a father and son)")
    parent_gap_years: int = Field(
        11, description="a parent's year of birth is at least this many years before their "
                        "child's (the parent_age rule)")
    link_only_between: str | None = Field(
        None, description="a column: pairs with the same value in it are not compared (link, not dedupe)")
    crowded_address_people: int = Field(
        4, description="an address entity where people of more distinct surnames than this live "
                       "is shared (care home, hostel) and weighs less for person matching")
    relational_rounds: int = Field(
        3, ge=0, description="rounds of collective linkage after the first pass: records whose "
                             "relatives are already one person gain evidence (the relatives "
                             "comparison) and are rescored, until nothing changes")
    seed: int = 42

    @model_validator(mode="after")
    def _known_names(self) -> "LinkageSettings":
        """Every name must be one the registries know, so a slip (`evidence_rules=['twinn']`)
        is an error listing the known names, not a rule that silently never runs."""
        # Imported here: the registries build on these settings.
        from kglink.linkage.blocking import key_function
        from kglink.linkage.comparisons import UnknownName
        from kglink.linkage.registry import comparisons_for
        from kglink.linkage.rules import rules_for

        comparisons_for(self.kind, self.comparisons)
        for blocking in (*self.blocking_rules, *self.training_rules):
            for key in blocking.keys:
                key_function(key)
        for field in ("strong_identifiers", "individual_evidence", "tf_adjust"):
            for name in getattr(self, field):
                if name not in self.comparisons:
                    raise UnknownName(f"comparison in {field}", name, self.comparisons)
        known = rules_for(self.kind)
        for name in self.evidence_rules:
            rule = known.get(name)
            if rule is None:
                raise UnknownName(f"{self.kind} evidence rule", name, known)
            missing = [c for c in rule.needs if c not in self.comparisons]
            if missing:
                raise ValueError(f"the evidence rule {name} reads the comparison {', '.join(missing)}, "
                                 f"which the settings leave out: add it to comparisons or drop the rule")
        return self


def person_settings() -> LinkageSettings:
    return LinkageSettings(
        kind="person",
        comparisons=("forename", "surname", "dob", "sex", "location", "nhs_number", "pnc_id", "upn", "contact",
                     "relatives"),
        blocking_rules=(
            BlockingRule(name="nhs_number", keys=("nhs_number",)),
            BlockingRule(name="pnc_id", keys=("pnc_id",)),
            BlockingRule(name="upn", keys=("upn",)),
            BlockingRule(name="contact", keys=("contact",)),
            BlockingRule(name="dob+surname_initial", keys=("dob", "surname_initial")),
            BlockingRule(name="dob+forename_initial", keys=("dob", "forename_initial")),
            BlockingRule(name="surname_phonetic+yob+forename_initial",
                         keys=("surname_phonetic", "yob", "forename_initial")),
            # ... and the other way round: a slip that changes a surname's sound (YARMORE,
            # YATMORE) beside a date of birth a day out, which no rule on the date finds.
            # Only in blocks of up to 25: at a million records, common first names born in
            # one year under one initial made 3.5M more pairs (+18 %) for 5 more true ones.
            BlockingRule(name="forename_phonetic+yob+surname_initial",
                         keys=("forename_phonetic", "yob", "surname_initial"), max_block_size=25),
            BlockingRule(name="names+district", keys=("forename_phonetic", "surname_phonetic", "postcode_district")),
            BlockingRule(name="names_any_order+yob", keys=("names_any_order", "yob")),
            BlockingRule(name="postcode+forename_phonetic", keys=("postcode", "forename_phonetic")),
            # Any place a record is tied to (a home, where an event happened, a visit), with
            # either initial: a woman known by her married name at her home and by her
            # maiden name as the victim of an incident there.
            BlockingRule(name="place+surname_initial", keys=("place_entity", "surname_initial")),
            BlockingRule(name="place+forename_initial", keys=("place_entity", "forename_initial")),
            # ... and with forename and surname written the wrong way round in one agency.
            BlockingRule(name="place+names_any_order", keys=("place_entity", "names_any_order")),
            # ... and whatever the names, with one date of birth: both names swapped and
            # misspelt, a married name and a nickname (twins are kept apart by the rules).
            BlockingRule(name="place+dob", keys=("place_entity", "dob")),
            # The same rare full name anywhere in the workspace (at most 10 records of it),
            # whatever else each record holds: a moved home, no place, no date of birth.
            BlockingRule(name="full_name", keys=("forename_exact", "surname_exact"), max_block_size=10),
            # A rare surname with one initial: a misspelt first name, nothing else in common.
            BlockingRule(name="surname+forename_initial", keys=("surname_exact", "forename_initial"),
                         max_block_size=10),
        ),
        training_rules=(
            BlockingRule(name="dob", keys=("dob",)),
            BlockingRule(name="names", keys=("forename_phonetic", "surname_phonetic")),
        ),
    )


def address_settings() -> LinkageSettings:
    return LinkageSettings(
        kind="address",
        comparisons=("uprn", "postcode", "premise", "street", "town"),
        blocking_rules=(
            BlockingRule(name="uprn", keys=("uprn",)),
            BlockingRule(name="postcode", keys=("postcode",)),
            BlockingRule(name="street+number+town", keys=("street", "number", "town")),
            BlockingRule(name="house_name+district", keys=("house_name", "district")),
            BlockingRule(name="street_phonetic+number+district", keys=("street_phonetic", "number", "district")),
            # No postcode and no town (or a village written for the town) on one side.
            BlockingRule(name="street_phonetic+number", keys=("street_phonetic", "number")),
        ),
        training_rules=(
            BlockingRule(name="postcode", keys=("postcode",)),
            BlockingRule(name="street+number+town", keys=("street", "number", "town")),
        ),
        tf_adjust=("street",),
        evidence_rules=("conflicting_identifier", "same_identifier", "different_premise",
                        "different_street"),
        strong_identifiers=("uprn",),
        individual_evidence=(),
        # Address parts are not independent given a match (street, town and postcode move
        # together), so EM's latent class drifts to "same street"; the documented default
        # m probabilities of each comparison are used instead.
        estimate_m=False,
    )


def default_settings(kind: Kind) -> LinkageSettings:
    return person_settings() if kind == "person" else address_settings()
