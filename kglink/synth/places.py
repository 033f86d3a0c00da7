"""The county's geography: towns, neighbourhoods, streets, postcodes, institutions.

Postcodes cluster as in life: a district per town (LU4 in Luton), a sector per
neighbourhood (LU4 8), a unit per stretch of street (LU4 8QH). Streets are created
as households need homes, so the county grows with the household count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from kglink.synth.identifiers import Uprns
from kglink.synth.model import Address

_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# name, districts, share of households, local authority code, villages, community mix
_TOWNS: tuple[tuple[str, tuple[str, ...], float, str, tuple[str, ...], dict[str, float]], ...] = (
    ("Luton", ("LU1", "LU2", "LU3", "LU4"), 0.30, "821", (),
     {"white_british": 44, "pakistani": 17, "bangladeshi": 7, "indian": 4, "polish": 8,
      "black_caribbean": 6, "black_african": 7, "irish": 5, "italian": 2}),
    ("Bedford", ("MK40", "MK41", "MK42"), 0.21, "822", ("Bromham", "Clapham", "Wootton"),
     {"white_british": 60, "pakistani": 5, "bangladeshi": 4, "indian": 8, "polish": 7,
      "black_caribbean": 4, "black_african": 3, "irish": 3, "italian": 6}),
    ("Dunstable", ("LU5", "LU6"), 0.09, "823", ("Toddington", "Caddington", "Eaton Bray"),
     {"white_british": 80, "polish": 6, "pakistani": 3, "indian": 2, "black_caribbean": 3,
      "black_african": 2, "irish": 4}),
    ("Houghton Regis", ("LU5",), 0.04, "823", (),
     {"white_british": 78, "polish": 8, "pakistani": 3, "black_caribbean": 4, "black_african": 3,
      "irish": 4}),
    ("Leighton Buzzard", ("LU7",), 0.09, "823", ("Heath and Reach", "Eggington", "Stanbridge"),
     {"white_british": 88, "polish": 5, "irish": 3, "indian": 2, "black_caribbean": 2}),
    ("Kempston", ("MK42",), 0.05, "822", (),
     {"white_british": 70, "italian": 6, "polish": 7, "indian": 6, "pakistani": 4,
      "black_caribbean": 3, "irish": 4}),
    ("Biggleswade", ("SG18",), 0.05, "823", ("Potton", "Langford"),
     {"white_british": 88, "polish": 6, "irish": 3, "indian": 3}),
    ("Sandy", ("SG19",), 0.03, "823", ("Everton", "Blunham"),
     {"white_british": 89, "polish": 6, "irish": 3, "indian": 2}),
    ("Flitwick", ("MK45",), 0.04, "823", ("Westoning", "Harlington", "Flitton"),
     {"white_british": 88, "polish": 4, "irish": 3, "indian": 3, "black_african": 2}),
    ("Ampthill", ("MK45",), 0.03, "823", ("Maulden", "Clophill"),
     {"white_british": 90, "polish": 3, "irish": 4, "indian": 3}),
    ("Shefford", ("SG17",), 0.03, "823", ("Clifton", "Meppershall", "Stotfold"),
     {"white_british": 89, "polish": 4, "irish": 4, "indian": 3}),
    ("Cranfield", ("MK43",), 0.02, "823", ("Marston Moretaine", "Wootton Green"),
     {"white_british": 84, "polish": 4, "indian": 5, "black_african": 4, "irish": 3}),
    ("Barton-le-Clay", ("MK45",), 0.02, "823", ("Silsoe", "Streatley"),
     {"white_british": 92, "polish": 3, "irish": 5}),
)

_STEMS = """High Church Station Mill Park Manor Victoria Albert Queen King George York
Windsor Grange Castle Bridge Chapel Meadow Orchard Willow Oak Ash Elm Beech Cedar Hazel
Holly Rowan Poplar Chestnut Sycamore Maple Birch Larch Linden Clarendon Stanley Wellington
Nelson Marlborough Cavendish Russell Bedford Dunstable Luton Ampthill Ridgeway Hillside
Highfield Fairfield Westfield Northfield Brookside Riverside Lakeside Greenway Hatters Vicarage
Rectory School Water Market Spring Well Barton Sundon Leagrave Marsh Stopsley Wardown Icknield
Chiltern Lea Ouse Ivel Flit Kingfisher Heron Swallow Falcon Lark Robin Wren Thrush Plover
Partridge Pheasant Badger Fox Otter Harebell Primrose Bluebell Foxglove Cowslip Heather Saxon
Roman Norman Tudor Stuart Hanover Crawley Biscot Dallow Hitchin Telford Ashton Gordon Milton
Shelley Tennyson Keats Byron Austen Dickens Bunyan Howard Harpur Kimbolton Goldington Putnoe
Brickhill Clapham Cardington Elstow Kempston Shortstown Wilstead Houghton Tithe Dray Cooper
Wheelwright Ploughman Shepherd Thatchers Farriers Drovers Carters Bargeman Lime Kiln Quarry""".split()
_TYPES = ("Road", "Road", "Road", "Street", "Street", "Avenue", "Close", "Close", "Lane", "Drive",
          "Way", "Crescent", "Gardens", "Grove", "Place", "Court", "Terrace", "Walk", "Rise",
          "Mews", "Green", "Parade")
_BLOCKS = ("Court", "House", "Lodge", "Heights", "Point", "Mansions", "Place")
_HOUSE_NAMES = ("Rose Cottage", "The Old Rectory", "Orchard House", "The Willows", "Meadow View",
                "Ivy Cottage", "The Laurels", "Hillcrest", "Fairview", "The Barn", "Brook House",
                "Holly Lodge", "Woodside", "The Cottage", "Oak Lodge", "Field End")
_SCHOOL_WORDS = ("Primary School", "Primary Academy", "Lower School", "Infant and Junior School",
                 "C of E Primary School", "Catholic Primary School")
_SECONDARY_WORDS = ("Academy", "High School", "Upper School", "School", "Community College")
_CARE_WORDS = ("House", "Lodge", "View", "Place")
_PLACES = (("Bus Station", "other"), ("Shopping Centre", "business"), ("Retail Park", "business"),
           ("Chicken Express", "business"), ("Snooker Club", "business"), ("Leisure Centre", "other"),
           ("Railway Station", "other"), ("Internet Cafe", "business"), ("Skate Park", "other"),
           ("Travel Inn", "hotel"))


@dataclass(eq=False, slots=True)
class Street:
    name: str
    stype: str
    hood: "Hood"
    next_no: int = 1
    capacity: int = 40
    used: int = 0
    unit: str = ""
    unit_left: int = 0
    block: tuple[str, str, int, int] | None = None   # number, building, next flat, flats


@dataclass(eq=False, slots=True)
class Hood:
    town: "Town"
    district: str
    sector: int
    locality: str
    units: list[str]
    streets: list[Street] = field(default_factory=list)

    def next_unit(self, rng: Random) -> str:
        # a sector with all 400 units used shares them between streets
        return self.units.pop() if self.units else rng.choice(_UNIT_LETTERS) + rng.choice(_UNIT_LETTERS)


@dataclass(eq=False, slots=True)
class Town:
    name: str
    districts: tuple[str, ...]
    la_code: str
    mix_names: list[str]
    mix_cum: list[float]
    hoods: list[Hood] = field(default_factory=list)
    primaries: list[tuple[Address, str]] = field(default_factory=list)   # (address, DfE number)
    secondaries: list[tuple[Address, str]] = field(default_factory=list)
    places: list[Address] = field(default_factory=list)

    def pick_community(self, rng: Random) -> str:
        return rng.choices(self.mix_names, cum_weights=self.mix_cum)[0]


class County:
    """Every place of the county, built once from the seed and the household count."""

    def __init__(self, rng: Random, households: int) -> None:
        self.rng = rng
        self.uprns = Uprns(rng)
        self.street_names: dict[str, set[str]] = {}
        self.towns: list[Town] = []
        self.town_cum: list[float] = []
        total = 0.0
        for name, districts, share, la, villages, mix in _TOWNS:
            town = self._make_town(name, districts, la, villages, mix)
            self.towns.append(town)
            total += share
            self.town_cum.append(total)
        self.by_name = {t.name: t for t in self.towns}
        self._institutions(households)

    # -- towns and streets -------------------------------------------------------
    def _make_town(self, name: str, districts: tuple[str, ...], la: str,
                   villages: tuple[str, ...], mix: dict[str, float]) -> Town:
        cum, acc = [], 0.0
        for w in mix.values():
            acc += w
            cum.append(acc)
        town = Town(name, districts, la, list(mix), cum)
        self.street_names[name] = set()
        sectors = [(d, s) for d in districts for s in range(10)]
        self.rng.shuffle(sectors)
        for i, (district, sector) in enumerate(sectors[: max(3, 8 * len(districts) // 2)]):
            locality = villages[i % len(villages)] if villages and i % 3 == 2 else ""
            units = [f"{a}{b}" for a in _UNIT_LETTERS for b in _UNIT_LETTERS]
            self.rng.shuffle(units)
            town.hoods.append(Hood(town, district, sector, locality, units))
        return town

    def pick_town(self, rng: Random) -> Town:
        return rng.choices(self.towns, cum_weights=self.town_cum)[0]

    def _new_street(self, rng: Random, hood: Hood) -> Street:
        used = self.street_names[hood.town.name]
        for _ in range(50):
            name, stype = rng.choice(_STEMS), rng.choice(_TYPES)
            if f"{name} {stype}" not in used:
                break
        else:
            name, stype = f"{rng.choice(_STEMS)} {rng.choice(_STEMS)}", rng.choice(_TYPES)
        used.add(f"{name} {stype}")
        street = Street(name, stype, hood, next_no=rng.randrange(1, 30), capacity=rng.randrange(12, 90))
        hood.streets.append(street)
        return street

    def new_home(self, rng: Random, town: Town | None = None, *, flat_rate: float = 0.2,
                 kind: str = "residential", building: str = "") -> Address:
        """A fresh address nobody else has been given."""
        town = town or self.pick_town(rng)
        hood = rng.choice(town.hoods)
        street = hood.streets[-1] if hood.streets and hood.streets[-1].used < hood.streets[-1].capacity \
            else self._new_street(rng, hood)
        street.used += 1
        if street.unit_left <= 0:
            street.unit = hood.next_unit(rng)
            street.unit_left = rng.randrange(8, 25)
        street.unit_left -= 1
        postcode = f"{hood.district} {hood.sector}{street.unit}"
        addr = Address("", street.name, street.stype, town.name, postcode, kind=kind,
                       building=building, locality=hood.locality, uprn=self.uprns.next(rng),
                       district=hood.district)
        if kind == "residential" and (street.block or rng.random() < flat_rate):
            self._flat(rng, street, addr)
        elif hood.locality and kind == "residential" and rng.random() < 0.35:
            addr.building = rng.choice(_HOUSE_NAMES)
            if rng.random() < 0.6:
                return addr        # a named house with no number
        if not addr.number:
            addr.number = str(street.next_no)
            street.next_no += rng.choice((1, 2, 2))
        return addr

    def _flat(self, rng: Random, street: Street, addr: Address) -> None:
        if street.block is None:
            building = f"{rng.choice(_STEMS)} {rng.choice(_BLOCKS)}" if rng.random() < 0.5 else ""
            street.block = (str(street.next_no), building, 1, rng.choice((2, 3, 4, 6, 8, 12, 20)))
            street.next_no += 2
        number, building, flat, flats = street.block
        addr.number, addr.building, addr.flat = number, building, str(flat)
        street.block = (number, building, flat + 1, flats) if flat < flats else None

    # -- institutions ------------------------------------------------------------
    def _institutions(self, households: int) -> None:
        rng = self.rng
        shares = dict(zip([t.name for t in self.towns], [s for _, _, s, *_ in _TOWNS]))
        for town in self.towns:
            n = households * shares[town.name]
            for _ in range(max(1, round(n / 900))):
                name = f"{rng.choice(_STEMS)} {rng.choice(_SCHOOL_WORDS)}"
                town.primaries.append((self.institution(rng, town, name, "school"),
                                       str(rng.randrange(2000, 3999))))
            for _ in range(max(1, round(n / 4000))):
                name = f"{rng.choice(_STEMS)} {rng.choice(_SECONDARY_WORDS)}"
                town.secondaries.append((self.institution(rng, town, name, "school"),
                                         str(rng.randrange(4000, 5999))))
            for word, kind in _PLACES[: 4 + min(6, round(n / 500))]:
                label = f"{town.name} {word}" if word.endswith("Station") else word
                town.places.append(self.institution(rng, town, label, kind))
        self.care_homes = [self.care_home(rng) for _ in range(max(3, households // 1500))]
        self.supported = [self.institution(rng, self.pick_town(rng),
                                           f"{rng.choice(_STEMS)} Foyer", "supported_accommodation")
                          for _ in range(max(2, households // 3000))]
        self.custody = [self.institution(rng, self.by_name[t], f"{t} Police Station Custody Suite",
                                         "other") for t in ("Luton", "Kempston")]

    def institution(self, rng: Random, town: Town, name: str, kind: str) -> Address:
        addr = self.new_home(rng, town, flat_rate=0.0, kind=kind, building=name)
        addr.shared = True
        return addr

    def care_home(self, rng: Random) -> Address:
        return self.institution(rng, self.pick_town(rng),
                                f"{rng.choice(_STEMS)} {rng.choice(_CARE_WORDS)}", "care_home")

    def school_for(self, rng: Random, town: Town, age: int) -> tuple[Address, str]:
        return rng.choice(town.primaries if age <= 10 else town.secondaries)
