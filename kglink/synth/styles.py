"""How each agency writes its extract: columns, dates, names, identifiers, noise.

A style is a value; rendering functions read it and never change it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgencyStyle:
    agency: str
    system: str
    extracted_time: str               # time of day of the extract on the reference date
    uk_dates: bool                    # DD/MM/YYYY rather than YYYY-MM-DD
    person_columns: tuple[str, ...]
    event_extra: tuple[str, ...] = ()
    surname_upper: float = 0.0        # share of records with an upper-case surname
    all_upper: bool = False           # every name in capitals (ViSOR)
    sex_words: bool = False           # "Male" / "Female" rather than M / F
    noise: float = 0.06               # base rate of spelling and keying errors
    fold_accents: float = 0.5         # share of records typed without Polish letters
    nhs_rate: float = 0.0             # share of records that carry the NHS number
    dob_missing: float = 0.02
    uprn_rate: float = 0.0
    comma_names: float = 0.0          # share written "SURNAME, Forenames" in the surname column
    ids: tuple[str, str, str] = ("P", "A", "E")   # record id prefixes: person, address, event
    id_width: int = 7

    def person_id(self, n: int) -> str:
        return f"{self.ids[0]}{n:0{self.id_width}d}"

    def address_id(self, n: int) -> str:
        return f"{self.ids[1]}{n:0{self.id_width}d}"

    def event_id(self, n: int) -> str:
        return f"{self.ids[2]}{n:0{self.id_width}d}"


POLICE = AgencyStyle(
    "police", "Niche RMS", "01:30:00", True,
    ("record_id", "surname", "forenames", "dob", "sex", "aliases", "pnc_id", "phone",
     "occupation", "ethnicity"),
    event_extra=("officer_id",), surname_upper=0.85, noise=0.12, fold_accents=0.8, comma_names=0.05,
    nhs_rate=0.03, dob_missing=0.04, ids=("NOM", "LOC", "OCC"))
CSC = AgencyStyle(
    "childrens_social_care", "Liquidlogic LCS", "02:00:00", False,
    ("record_id", "forenames", "surname", "dob", "sex", "nhs_number", "phone", "email",
     "ethnicity"),
    event_extra=("team",), sex_words=True, noise=0.06, fold_accents=0.4, nhs_rate=0.6,
    uprn_rate=0.5, ids=("", "ADR", "WF"), id_width=6)
EDUCATION = AgencyStyle(
    "education", "Capita SIMS (LA return)", "03:15:00", True,
    ("record_id", "upn", "forenames", "surname", "dob", "sex", "phone", "email", "occupation",
     "ethnicity", "year_group"),
    surname_upper=0.15, noise=0.07, fold_accents=0.3, ids=("ED", "EA", "EE"))
HEALTH = AgencyStyle(
    "health", "SystmOne", "00:45:00", False,
    ("record_id", "nhs_number", "forenames", "surname", "dob", "sex", "phone", "gp_practice"),
    noise=0.04, fold_accents=0.3, nhs_rate=0.99, dob_missing=0.0, uprn_rate=0.8,
    ids=("H", "HA", "HE"), id_width=8)
VISOR = AgencyStyle(
    "visor", "ViSOR", "04:00:00", True,
    ("record_id", "surname", "forenames", "aliases", "dob", "sex", "pnc_id", "mappa_category"),
    all_upper=True, noise=0.05, fold_accents=0.9, dob_missing=0.0, ids=("VP", "VA", "VE"),
    id_width=6)
MARAC = AgencyStyle(
    "marac", "MARAC minutes (spreadsheet)", "05:00:00", True,
    ("record_id", "forenames", "surname", "dob", "sex", "phone"),
    event_extra=("referring_agency", "idva"), noise=0.1, fold_accents=0.7, dob_missing=0.25,
    comma_names=0.5,
    ids=("MP", "MA", "MC"), id_width=5)
NCA = AgencyStyle(
    "nca", "NCA CEOP referral", "02:30:00", False,
    ("record_id", "forenames", "surname", "dob", "sex", "email", "phone", "occupation",
     "online_username"),
    noise=0.05, fold_accents=0.5, dob_missing=0.1, ids=("NCA-S", "NCA-A", "NCA-R"), id_width=5)

STYLES: dict[str, AgencyStyle] = {s.agency: s for s in (POLICE, CSC, EDUCATION, HEALTH, VISOR, MARAC, NCA)}
AGENCIES = tuple(STYLES)
