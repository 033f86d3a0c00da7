"""Noisy renderings of true persons and addresses, in one agency's style.

The noise is what real records show: one-character typos, nicknames and spelling
variants, initials, dropped middle names, day and month swapped, off-by-one dates,
maiden names, upper-case surnames, abbreviated street types, flats written three
ways, postcodes without spaces or in lower case, invalid NHS numbers.
A date of birth is never made noisy for someone aged 17 or 18 on the reference date,
and never left out for anyone under 19, so whether a person is a child never depends
on which record is read.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from random import Random

from kglink.synth import names as nm
from kglink.synth.identifiers import invalid_nhs
from kglink.synth.namedata import ETHNICITY
from kglink.synth.model import STREET_ABBREVIATIONS, Address, Person, age_on
from kglink.synth.styles import AgencyStyle

_KEYS = "qwertyuiop asdfghjkl zxcvbnm"


def fmt_date(style: AgencyStyle, d: date) -> str:
    sep = style.date_sep
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}" if style.uk_dates else d.isoformat()


def fmt_dt(style: AgencyStyle, t: datetime, date_only: bool = False) -> str:
    if date_only:
        return fmt_date(style, t.date())
    if style.uk_dates:
        return f"{fmt_date(style, t.date())} {t.hour:02d}:{t.minute:02d}"
    return t.isoformat(timespec="seconds")


def typo(rng: Random, word: str) -> str:
    """One keying error: a neighbouring key, a dropped, doubled or swapped letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        c = word[i].lower()
        k = _KEYS.find(c)
        if k < 0:
            return word
        near = _KEYS[k + 1] if k + 1 < len(_KEYS) and _KEYS[k + 1] != " " else _KEYS[k - 1]
        if near == " ":
            return word
        return word[:i] + (near.upper() if word[i].isupper() else near) + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _forenames(rng: Random, style: AgencyStyle, p: Person, noise: float) -> list[str]:
    mix = style.mix
    fn = list(p.forenames)
    if len(fn) > 1 and rng.random() < 0.25 + 2 * noise:
        fn = fn[:1]
    r = rng.random()
    if r < noise * mix.nickname:
        fn[0] = nm.nickname(rng, fn[0]) or fn[0]
    elif r < noise * mix.variant_upto:
        fn[0] = nm.variant(rng, fn[0]) or fn[0]
    elif r < noise * mix.initials_upto:
        fn = [f[0] for f in fn]
    if rng.random() < noise * mix.forename_typo:
        fn[0] = typo(rng, fn[0])
    return fn


def _surname(rng: Random, style: AgencyStyle, p: Person, noise: float) -> str:
    sn = p.alt_surname if p.alt_surname and p.alt_agency == style.agency else p.surname
    if "-" in sn and rng.random() < noise * 3:
        sn = rng.choice(sn.split("-"))
    elif " " in sn and rng.random() < noise * 3:
        sn = sn.replace(" ", "")
    elif rng.random() < noise * style.mix.surname_variant:
        sn = nm.variant(rng, sn) or sn
    if rng.random() < noise * style.mix.surname_typo:
        sn = typo(rng, sn)
    return sn


def render_name(rng: Random, style: AgencyStyle, p: Person, noise: float) -> tuple[str, str]:
    fn, sn = " ".join(_forenames(rng, style, p, noise)), _surname(rng, style, p, noise)
    if rng.random() < style.fold_accents:
        fn, sn = nm.ascii_fold(fn), nm.ascii_fold(sn)
    if style.mix.swap_names and " " not in fn and rng.random() < noise * style.mix.swap_names:
        fn, sn = sn, fn                  # keyed into each other's boxes
    if style.all_upper:
        return fn.upper(), sn.upper()
    if rng.random() < style.comma_names:
        return "", f"{sn.upper()}, {fn}"
    if rng.random() < style.surname_upper:
        sn = sn.upper()
    return fn, sn


def render_dob(rng: Random, style: AgencyStyle, dob: date, ref: date, missing: float,
               noise: float) -> str:
    age = age_on(dob, ref)
    if age >= 19 and rng.random() < missing:     # a child's record always has a date of birth
        return ""
    if not 17 <= age < 19:
        mix = style.mix
        r = rng.random()
        if r < noise * mix.dob_swap and dob.day <= 12 and dob.day != dob.month:
            dob = date(dob.year, dob.day, dob.month)
        elif r < noise * mix.dob_shift_upto:
            dob = dob + timedelta(days=rng.choice((-1, 1)))
        elif r < noise * mix.dob_year_upto and age >= 21:
            shift = rng.choice((-1, 1, -10, 10)) if age >= 31 else rng.choice((-1, 1))
            dob = _year_shifted(dob, shift)
    return fmt_date(style, dob)


def _year_shifted(dob: date, years: int) -> date:
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:                           # 29 February
        return dob.replace(year=dob.year + years, day=28)


def render_nhs(rng: Random, number: str) -> str:
    if not number:
        return ""
    if rng.random() < 0.01:
        number = invalid_nhs(number)
    return f"{number[:3]} {number[3:6]} {number[6:]}" if rng.random() < 0.4 else number


def render_phone(rng: Random, phone: str) -> str:
    if not phone:
        return ""
    r = rng.random()
    if r < 0.3:
        return phone.replace(" ", "")
    if r < 0.4:
        return "+44 " + phone[1:]
    return phone


def render_person(rng: Random, style: AgencyStyle, p: Person, ref: date, *,
                  contact: bool = False, extra_noise: float = 0.0, role: str = "") -> dict[str, str]:
    """A persons.csv row (without record_id) for the columns this agency keeps."""
    noise = style.noise + extra_noise + (0.05 if contact else 0.0)
    fn, sn = render_name(rng, style, p, noise)
    cols = style.person_columns
    row = {"forenames": fn, "surname": sn,
           "dob": render_dob(rng, style, p.dob, ref, style.dob_missing_for(contact, role), noise)}
    row["sex"] = ("Male" if p.sex == "M" else "Female") if style.sex_words else p.sex
    if rng.random() < noise * 0.1:
        row["sex"] = "" if style.sex_words else "U"
    if "nhs_number" in cols and rng.random() < style.nhs_rate:
        row["nhs_number"] = render_nhs(rng, p.nhs)
    if "pnc_id" in cols:
        row["pnc_id"] = p.pnc
    if "upn" in cols:
        row["upn"] = p.upn
    if "phone" in cols and (contact or rng.random() < 0.5):
        row["phone"] = render_phone(rng, p.phone)
    if "email" in cols and (contact or rng.random() < 0.3):
        row["email"] = p.email
    if "aliases" in cols and p.aliases:
        alias = [f"{f} {s}" for f, s in p.aliases]
        row["aliases"] = "|".join(a.upper() for a in alias) if style.all_upper else "|".join(alias)
    if "ethnicity" in cols and rng.random() < 0.8:
        labels = ETHNICITY[p.community]
        row["ethnicity"] = {"childrens_social_care": labels[0], "education": labels[1]}.get(
            style.agency, labels[2])
    return row


def _street(rng: Random, a: Address, noise: float) -> str:
    if a.street_type in STREET_ABBREVIATIONS and rng.random() < 0.25 + 2 * noise:
        return f"{a.street} {STREET_ABBREVIATIONS[a.street_type]}"
    return a.street_name


def _lines(rng: Random, a: Address, noise: float) -> tuple[str, str]:
    street = _street(rng, a, noise)
    numbered = f"{a.number} {street}".strip()
    if a.flat:
        building = f" {a.building}" if a.building and rng.random() < 0.6 else ""
        r = rng.random()
        if r < 0.45:
            return f"Flat {a.flat}{building}, {numbered}", ""
        if r < 0.7:
            return f"{a.flat}/{numbered}", ""
        if r < 0.85:
            return f"FLAT {a.flat}{building} {numbered}".upper(), ""
        return f"Flat {a.flat}{building}", numbered
    if a.building:
        r = rng.random()
        if not a.number:
            return (f"{a.building}, {street}", "") if r < 0.6 else (a.building, street)
        if r < 0.45:
            return f"{a.building}, {numbered}", ""
        if r < 0.75:
            return a.building, numbered
        return numbered, ""
    return numbered, ""


def render_postcode(rng: Random, postcode: str, noise: float) -> str:
    r = rng.random()
    if r < noise * 0.3:
        return ""
    if r < noise * 0.4:
        return postcode[:-1] + "ABDEFGHJLNPQRSTUWXYZ"[rng.randrange(20)]   # keyed wrongly
    if r < noise * 2.5:
        return postcode.replace(" ", "")
    if r < noise * 3.5:
        return postcode.lower()
    return postcode


def render_address(rng: Random, style: AgencyStyle, a: Address) -> dict[str, str]:
    noise = style.noise
    line1, line2 = _lines(rng, a, noise)
    if a.locality and not line2 and rng.random() < 0.8:
        line2 = a.locality
    if rng.random() < noise * 0.4:
        line1 = typo(rng, line1)
    town = a.town if rng.random() >= noise * 0.3 else ""
    if style.all_upper or (style.agency == "police" and rng.random() < 0.3):
        line1, line2, town = line1.upper(), line2.upper(), town.upper()
    kind = a.kind if (a.kind != "residential" or rng.random() < 0.6) else ""
    return {"line1": line1, "line2": line2, "town": town,
            "postcode": render_postcode(rng, a.postcode, noise),
            "uprn": a.uprn if rng.random() < style.uprn_rate else "", "kind": kind}
