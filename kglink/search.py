"""Find a person among the loaded records: by name (fuzzily), date of birth, address,
postcode, phone or identifier; each hit is a person entity described well enough for a
researcher to pick the right one.

Names are compared the way linkage compares them (kglink/standardise/names.py,
kglink/linkage/fields/name.py): the same cleaning, nickname equivalence (Jon ~ Jonathan),
the same sound key, and the linkage's close-spelling level (Jaro-Winkler 0.92). Every search term must match; a term
matches an entity when any of its records matches.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from kglink import vocab
from kglink.errors import KglinkError
from kglink.linkage.entities import entity_map, source_key
from kglink.linkage.fields.name import nickname_keys, phonetic
from kglink.standardise.address import address_key, parse_address
from kglink.standardise.contact import canonical_phone
from kglink.standardise.dates import parse_date
from kglink.standardise.identifiers import canonical_nhs, canonical_pnc, canonical_upn
from kglink.standardise.names import clean_name, split_person_name
from kglink.standardise.postcode import canonical_postcode
from kglink.workspace import Workspace

CLOSE_SPELLING = 0.92      # the linkage's "close spelling" level for names and streets
MIDDLE_NAME = 0.9         # a hit on a middle name ranks below one on the first name


class SearchError(KglinkError, ValueError):
    """A search that cannot be run as asked."""


@dataclass(frozen=True)
class Terms:
    name: str | None = None
    dob: str | None = None
    address: str | None = None
    postcode: str | None = None
    phone: str | None = None
    identifier: str | None = None

    def given(self) -> list[str]:
        return [k for k, v in vars(self).items() if v and v.strip()]


@dataclass
class Candidate:
    entity_id: str
    records: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    dobs: list[str] = field(default_factory=list)
    ages: list[int] = field(default_factory=list)
    homes: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)    # which terms matched, and how
    score: float = 0.0


# --- names --------------------------------------------------------------------------

_nick = lru_cache(maxsize=None)(nickname_keys)
_sound = lru_cache(maxsize=None)(phonetic)


def _word_matches(word: str, choices: list[str]) -> dict[str, tuple[float, str]]:
    """Name words that match `word`: equal, nickname, sound-alike or close spelling."""
    out: dict[str, tuple[float, str]] = {}
    for choice, sim, _ in process.extract(word, choices, scorer=JaroWinkler.similarity,
                                          score_cutoff=CLOSE_SPELLING, limit=None):
        out[choice] = (sim, "same name" if choice == word else "close spelling")
    nick = _nick(word)
    sound = _sound(word)
    for choice in choices:
        if choice in out:
            continue
        if nick & _nick(choice):
            out[choice] = (0.9, "nickname")
        elif sound and len(word) > 2 and _sound(choice) == sound:
            out[choice] = (0.85, "sounds alike")
    return out


def _record_names(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["forenames"], d["surname"])] + [(a["forenames"], a["surname"]) for a in d.get("aliases", [])]


def _name_score(want: list[str], names: list[tuple[str, str]],
                matches: list[dict[str, tuple[float, str]]]) -> tuple[float, str, str] | None:
    """(score, how, which name) of the best of a record's names where every wanted word
    matches a name word (with two or more words, the last must match the surname)."""
    best: tuple[float, str, str] | None = None
    for fore, sur in names:
        given = fore.split()
        surnames = sur.replace("-", " ").split() + ([sur] if "-" in sur else [])
        # a match on a middle name counts for a little less than one on the first name or surname
        weight = {w: MIDDLE_NAME for w in given[1:]} | {w: 1.0 for w in given[:1] + surnames}
        scores, hows = [], []
        for i, m in enumerate(matches):
            pool = surnames if len(want) > 1 and i == len(want) - 1 else list(weight)
            hit = max(((m[w][0] * weight.get(w, 1.0), m[w][1]) for w in pool if w in m), default=None)
            if hit is None:
                break
            scores.append(hit[0])
            hows.append(hit[1])
        else:
            score = sum(scores) / len(scores)
            how = "same name" if all(h == "same name" for h in hows) else \
                ", ".join(sorted({h for h in hows if h != "same name"}))
            if best is None or score > best[0]:
                best = (score, f"name ({how})", f"{fore} {sur}".strip())
    return best


def _wanted_words(name: str) -> list[str]:
    if "," in name:
        n = split_person_name(None, name)
        return (n.forenames.split() + [n.surname]) if n.surname else n.forenames.split()
    return clean_name(name).replace("-", " ").split()


# --- the search -----------------------------------------------------------------------

def search(ws: Workspace, terms: Terms, reference: date | None = None) -> list[Candidate]:
    """Person entities matching every term given, best first."""
    if not terms.given():
        raise SearchError("give something to search by: --name, --dob, --address, --postcode, "
                          "--phone or --id")
    people = entity_map(ws, "person")
    persons = list(ws.records("person"))
    hits: dict[str, list[str]] = {}          # entity -> how each term matched
    best_name: dict[str, str] = {}           # entity -> its name closest to the one searched for
    scores: dict[str, float] = defaultdict(float)

    def narrow(found: dict[str, tuple[float, str]]) -> None:
        """Keep entities matching this term too (found: entity -> (score, how))."""
        nonlocal hits
        keep = found if not hits else {e: v for e, v in found.items() if e in hits}
        hits = {e: hits.get(e, []) + [how] for e, (_, how) in keep.items()}
        for e, (s, _) in keep.items():
            scores[e] += s

    if terms.name:
        want = _wanted_words(terms.name)
        if not want:
            raise SearchError("the name has no letters in it")
        vocab_words = sorted({w for _, _, d in persons for fore, sur in _record_names(d)
                              for w in fore.split() + sur.replace("-", " ").split() + [sur] if w})
        matches = [_word_matches(w, vocab_words) for w in want]
        found: dict[str, tuple[float, str]] = {}
        for agency, rid, d in persons:
            got = _name_score(want, _record_names(d), matches)
            eid = people[source_key(agency, rid)].entity_id
            if got and got[0] > found.get(eid, (0.0, ""))[0]:
                found[eid] = got[:2]
                best_name[eid] = got[2]
        narrow(found)
    if terms.dob:
        try:
            want_dob = parse_date(terms.dob)
        except ValueError as e:
            raise SearchError(f"--dob: {e}") from None
        narrow({people[source_key(a, r)].entity_id: (1.0, "date of birth")
                for a, r, d in persons if want_dob and d.get("dob") == want_dob.isoformat()})
    if terms.identifier:
        narrow(_by_identifier(terms.identifier, persons, people))
    if terms.phone:
        phone = canonical_phone(terms.phone)
        if not phone:
            raise SearchError("--phone is not a UK phone number kglink can read")
        narrow({people[source_key(a, r)].entity_id: (1.0, "phone")
                for a, r, d in persons if d.get("phone") == phone})
    if terms.address or terms.postcode:
        narrow(_by_place(ws, terms, people))
    ref = reference or date.today()
    out = _describe(ws, hits, people, persons, ref)
    for c in out:
        c.matched, c.score = hits[c.entity_id], scores[c.entity_id]
        if c.entity_id in best_name:     # the name searched for first, then the others
            c.names = [best_name[c.entity_id]] + [n for n in c.names if n != best_name[c.entity_id]]
    return sorted(out, key=lambda c: (-c.score, c.names[:1], c.entity_id))


def _by_identifier(text: str, persons: list[tuple[str, str, dict[str, Any]]],
                   people: dict[str, Any]) -> dict[str, tuple[float, str]]:
    wanted = {"nhs_number": canonical_nhs(text), "pnc_id": canonical_pnc(text), "upn": canonical_upn(text)}
    wanted = {k: v for k, v in wanted.items() if v}
    if not wanted:
        raise SearchError("--id is not an NHS number (with a valid check digit), a PNC id or a UPN")
    label = {"nhs_number": "NHS number", "pnc_id": "PNC id", "upn": "UPN"}
    return {people[source_key(a, r)].entity_id: (1.0, label[k])
            for a, r, d in persons for k, v in wanted.items() if d.get(k) == v}


def _postcode_matches(want: str, have: str | None) -> bool:
    if not have:
        return False
    full = canonical_postcode(want)
    if full:
        return have == full
    part = " ".join(want.upper().split())          # a district (BH15) or sector (BH15 1)
    return have == part or have.startswith(part + " ") or (" " in part and have.startswith(part))


def _address_matches(want: list[str], d: dict[str, Any]) -> bool:
    p = parse_address(d.get("line1"), d.get("line2"), d.get("town"))
    words = address_key(p).split() + ([f"FLAT {p.flat}"] if p.flat else [])
    for w in want:
        if w.isdigit() or any(ch.isdigit() for ch in w):
            if w not in words:
                return False
        elif not any(JaroWinkler.similarity(w, x) >= CLOSE_SPELLING for x in words):
            return False
    return True


def _by_place(ws: Workspace, terms: Terms, people: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """People who live, stay or are placed at an address matching the address and postcode."""
    addr_entities = entity_map(ws, "address")
    want = address_key(parse_address(terms.address)).split() if terms.address else []
    matching: set[str] = set()
    for agency, rid, d in ws.records("address"):
        if terms.postcode and not _postcode_matches(terms.postcode, d.get("postcode")):
            continue
        if want and not _address_matches(want, d):
            continue
        matching.add(addr_entities[source_key(agency, rid)].entity_id)
    how = " and ".join(x for x, v in (("address", terms.address), ("postcode", terms.postcode)) if v)
    out: dict[str, tuple[float, str]] = {}
    for agency, _, o in ws.records("occupancy"):
        a = addr_entities.get(source_key(agency, o["address_id"]))
        p = people.get(source_key(agency, o["person_id"]))
        if a and p and a.entity_id in matching:
            out[p.entity_id] = (1.0, f"{how} ({o['relation'].replace('_', ' ')})")
    return out


# --- describing a candidate -------------------------------------------------------------

def _describe(ws: Workspace, wanted: dict[str, Any], people: dict[str, Any],
              persons: list[tuple[str, str, dict[str, Any]]], ref: date) -> list[Candidate]:
    """Names, dates of birth and ages, current homes and agencies of each wanted entity."""
    found = {eid: Candidate(eid) for eid in wanted}
    owner: dict[str, Candidate] = {}
    recorded: dict[str, Counter[str]] = defaultdict(Counter)   # entity -> name -> records naming it so
    for agency, rid, d in persons:
        key = source_key(agency, rid)
        c = found.get(people[key].entity_id)
        if c is None:
            continue
        owner[key] = c
        c.records.append(key)
        for n, (fore, sur) in enumerate(_record_names(d)):
            full = f"{fore} {sur}".strip()
            if full:
                recorded[c.entity_id][full] += 0 if n else 1     # aliases count for nothing
        if d.get("dob") and d["dob"] not in c.dobs:
            c.dobs.append(d["dob"])
        if agency not in c.agencies:
            c.agencies.append(agency)
    homes: dict[str, list[Candidate]] = defaultdict(list)    # address record -> its people
    for agency, _, o in ws.records("occupancy"):
        c = owner.get(source_key(agency, o["person_id"]))
        if c is None or o["relation"] not in vocab.HOME_RELATIONS:
            continue
        if o.get("to_date") and o["to_date"] < ref.isoformat():
            continue
        homes[source_key(agency, o["address_id"])].append(c)
    if homes:
        for agency, rid, d in ws.records("address"):
            for c in homes.get(source_key(agency, rid), []):
                text = ", ".join(x for x in (d.get("line1"), d.get("town"), d.get("postcode")) if x)
                if text not in c.homes:
                    c.homes.append(text)
    for c in found.values():
        # the name most records give first: a typo in one record does not head the list
        c.names = [n for n, _ in sorted(recorded[c.entity_id].items(), key=lambda kv: -kv[1])]
        c.dobs.sort()
        c.ages = sorted({_age(x, ref) for x in c.dobs})
    return list(found.values())


def _age(dob: str, ref: date) -> int:
    born = date.fromisoformat(dob)
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
