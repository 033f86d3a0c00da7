"""The closed vocabularies of extract format v1, declared once.

Loaders validate against these; the graph schema derives relationship types from them.
"""
from __future__ import annotations

FORMAT_NAME = "kglink-extract"
FORMAT_VERSIONS = frozenset({1})

KNOWN_AGENCIES = (
    "police", "childrens_social_care", "education", "health", "visor", "marac", "nca",
    "probation", "housing",
)
OCCUPANCY_RELATIONS = ("lives_at", "registered_at", "placed_at", "frequents", "visits", "works_at")
HOME_RELATIONS = frozenset({"lives_at", "registered_at", "placed_at"})
PERSON_RELATIONS = (
    "parent_of", "carer_of", "partner_of", "ex_partner_of", "sibling_of",
    "household_member", "associate_of",
)
DIRECTED_PERSON_RELATIONS = frozenset({"parent_of", "carer_of"})
EVENT_TYPES = (
    "incident", "domestic_abuse", "crime", "missing_episode", "ppn", "referral",
    "strategy_meeting", "child_protection_conference", "marac_case", "custody",
    "police_protection", "nca_referral", "rso_visit", "breach", "intelligence",
)
EVENT_PERSON_ROLES = (
    "victim", "suspect", "perpetrator", "offender", "involved_child", "missing_person",
    "reporting_person", "subject", "associate", "witness", "detained", "appropriate_adult",
)
EVENT_ADDRESS_ROLES = ("location", "missing_from", "found_at")
FLAGS = (
    "wanted", "registered_sex_offender", "shpo", "child_protection_plan",
    "looked_after_child", "cse_risk", "cce_risk", "repeat_missing", "high_risk_da_victim",
    "da_perpetrator", "reactive_management", "foster_carer_applicant",
    "unaccompanied_migrant_child",
)
ADDRESS_KINDS = (
    "residential", "care_home", "supported_accommodation", "school", "hotel", "business", "other",
)
