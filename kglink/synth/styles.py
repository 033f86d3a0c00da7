"""How each agency writes its extract: columns, dates, names, identifiers, noise.

A style is a value; rendering functions read it and never change it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Roles in which a person is a party to someone else's event rather than its subject.
PARTY_ROLES = frozenset({"victim", "witness", "reporting_person", "suspect", "perpetrator",
                         "associate", "appropriate_adult"})


@dataclass(frozen=True)
class NoiseMix:
    """How a record's base noise rate splits into kinds of error, as multiples of that rate.

    Fields ending in _upto are cumulative over one draw: a forename is a nickname below
    nickname, another spelling below variant_upto, initials below initials_upto (each times
    the noise rate); a date of birth likewise.
    """

    nickname: float = 0.6             # forename written as a nickname (Bill for William)
    variant_upto: float = 0.9         # another spelling of the forename (Stephen / Steven)
    initials_upto: float = 1.0        # forenames reduced to initials
    forename_typo: float = 0.4        # one keying error in the forename
    surname_variant: float = 0.3
    surname_typo: float = 0.4
    dob_swap: float = 0.3             # day and month swapped
    dob_shift_upto: float = 0.5       # a day out
    dob_year_upto: float = 0.5        # the year out by one (or ten); none in the kglink style
    swap_names: float = 0.0           # forenames and surname keyed into each other's columns


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
    id_width: int = 7                 # zero-padded to this many digits (0: not padded)
    id_sep: str = ""                  # between prefix and number ("NOM-123")
    date_sep: str = "/"               # in day-first dates: 01/02/2003, 01.02.2003, 01-02-2003
    contact_dob_missing: float = 0.7  # a contact (a pupil's parent) recorded without a date of birth
    party_dob_missing: float | None = None   # a victim, witness or suspect; None: as dob_missing
    home_missing: float = 0.0         # share of subjects recorded with no home on file
    contact_home_missing: float = 0.0
    party_home_missing: float = 0.0
    registered_share: float = 0.0     # share of homes written as registered_at, not lives_at
    mix: NoiseMix = field(default_factory=NoiseMix)

    def _id(self, prefix: str, n: int) -> str:
        sep = self.id_sep if prefix else ""          # never an id that starts "-"
        return f"{prefix}{sep}{n:0{self.id_width}d}" if self.id_width else f"{prefix}{sep}{n}"

    def person_id(self, n: int) -> str:
        return self._id(self.ids[0], n)

    def address_id(self, n: int) -> str:
        return self._id(self.ids[1], n)

    def event_id(self, n: int) -> str:
        return self._id(self.ids[2], n)

    def dob_missing_for(self, contact: bool, role: str) -> float:
        if contact:
            return self.contact_dob_missing
        if role in PARTY_ROLES and self.party_dob_missing is not None:
            return self.party_dob_missing
        return self.dob_missing

    def home_missing_for(self, contact: bool, role: str) -> float:
        if contact:
            return self.contact_home_missing
        return self.party_home_missing if role in PARTY_ROLES else self.home_missing


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
