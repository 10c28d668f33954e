"""What the demo generators share: the seeded randomness, the clock, faker's pools, the rows
made so far, and places (cities with their zip ranges and phone area codes)."""

from __future__ import annotations

import functools
import itertools
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crmcli.values import fold, fold_variants, sound_key

HISTORY_DAYS = 730  # records were created over the last two years


def words(text: str) -> list[str]:
    return text.split()


class Choice:
    """Values with weights, drawn with the caller's random.Random (weights summed once)."""

    def __init__(self, pairs: Sequence[tuple]):
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))

    def __call__(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cum)[0]


# (city, first zip, last zip, area code, population in thousands)
_DE_CITIES = [
    ("Berlin", 10115, 14199, "030", 3700), ("Hamburg", 20095, 22769, "040", 1900),
    ("München", 80331, 81929, "089", 1500), ("Köln", 50667, 51149, "0221", 1080),
    ("Frankfurt am Main", 60306, 60599, "069", 770), ("Stuttgart", 70173, 70629, "0711", 630),
    ("Düsseldorf", 40210, 40629, "0211", 620), ("Leipzig", 4103, 4357, "0341", 600),
    ("Dortmund", 44135, 44388, "0231", 590), ("Essen", 45127, 45359, "0201", 580),
    ("Bremen", 28195, 28779, "0421", 570), ("Dresden", 1067, 1328, "0351", 560),
    ("Hannover", 30159, 30669, "0511", 540), ("Nürnberg", 90402, 90491, "0911", 520),
    ("Duisburg", 47051, 47279, "0203", 500), ("Bochum", 44787, 44894, "0234", 360),
    ("Wuppertal", 42103, 42399, "0202", 350), ("Bielefeld", 33602, 33739, "0521", 330),
    ("Bonn", 53111, 53229, "0228", 330), ("Münster", 48143, 48167, "0251", 320),
    ("Mannheim", 68159, 68309, "0621", 310), ("Karlsruhe", 76131, 76229, "0721", 310),
    ("Augsburg", 86150, 86199, "0821", 300), ("Wiesbaden", 65183, 65207, "0611", 280),
    ("Mönchengladbach", 41061, 41239, "02161", 260), ("Aachen", 52062, 52080, "0241", 250),
    ("Braunschweig", 38100, 38126, "0531", 250), ("Kiel", 24103, 24159, "0431", 250),
    ("Chemnitz", 9111, 9247, "0371", 240), ("Halle (Saale)", 6108, 6132, "0345", 240),
    ("Magdeburg", 39104, 39130, "0391", 240), ("Freiburg im Breisgau", 79098, 79117, "0761", 230),
    ("Krefeld", 47798, 47839, "02151", 230), ("Mainz", 55116, 55131, "06131", 220),
    ("Lübeck", 23552, 23570, "0451", 220), ("Erfurt", 99084, 99099, "0361", 210),
    ("Rostock", 18055, 18147, "0381", 210), ("Kassel", 34117, 34134, "0561", 200),
    ("Potsdam", 14467, 14482, "0331", 180), ("Saarbrücken", 66111, 66133, "0681", 180),
    ("Osnabrück", 49074, 49090, "0541", 165), ("Heidelberg", 69115, 69126, "06221", 160),
    ("Regensburg", 93047, 93059, "0941", 150), ("Würzburg", 97070, 97084, "0931", 130),
    ("Fürth", 90762, 90768, "0911", 130), ("Ulm", 89073, 89081, "0731", 125),
    ("Göttingen", 37073, 37085, "0551", 120), ("Jena", 7743, 7751, "03641", 110),
    ("Gießen", 35390, 35398, "0641", 90), ("Düren", 52349, 52355, "02421", 90),
    ("Tübingen", 72070, 72076, "07071", 90), ("Lüneburg", 21335, 21339, "04131", 77),
    ("Görlitz", 2826, 2828, "03581", 56), ("Fürstenfeldbruck", 82256, 82256, "08141", 38),
    ("Überlingen", 88662, 88662, "07551", 23), ("Bad Tölz", 83646, 83646, "08041", 19),
]  # fmt: skip
# Austrian and Swiss places: numbers are written internationally, as parse_phone reads
# national numbers as German.
_AT_CITIES = [
    ("Wien", 1010, 1230, "1", 1900), ("Graz", 8010, 8063, "316", 290),
    ("Linz", 4020, 4040, "732", 210), ("Salzburg", 5020, 5026, "662", 155),
    ("Innsbruck", 6020, 6080, "512", 130),
]  # fmt: skip
_CH_CITIES = [
    ("Zürich", 8001, 8099, "44", 420), ("Basel", 4001, 4059, "61", 175),
    ("Bern", 3001, 3030, "31", 135), ("Luzern", 6003, 6015, "41", 82),
    ("St. Gallen", 9000, 9016, "71", 76),
]  # fmt: skip
STREETS = words(
    "Hauptstraße Bahnhofstraße Schulstraße Gartenstraße Dorfstraße Bergstraße Lindenstraße "
    "Kirchstraße Goethestraße Schillerstraße Mühlenweg Friedrichstraße Ringstraße Feldstraße "
    "Waldstraße Rosenweg Birkenweg Jahnstraße Parkstraße Industriestraße Poststraße "
    "Marktplatz Brückenstraße Königstraße Lessingstraße Mozartstraße Gewerbestraße"
) + ["Am Markt", "Auf der Höhe", "Im Gewerbepark", "An der Mühle"]
MOBILE = ("151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "179")
ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "ø": "o", "æ": "ae", "ł": "l"}
)


@dataclass
class Demo:
    """What the generators share: randomness, the clock, faker's pools, and the rows so far."""

    rng: random.Random
    now: datetime
    first_female: list[str]
    first_male: list[str]
    last_names: list[str]
    streets: list[str]
    towns: list[str]
    jobs: list[str]
    faker_companies: list[str]
    companies: list[dict] = field(default_factory=list)
    company_ids: list[int] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    tag_ids: dict[str, int] = field(default_factory=dict)
    # contact id -> its custom-field values in key order (the search index holds them)
    field_values: dict[int, list[str]] = field(default_factory=dict)
    # contact id -> its second email and (phone, e164), or None: the search index holds them
    more: dict[int, tuple] = field(default_factory=dict)
    phone_rows: int = 0
    product_ids: list[int] = field(default_factory=list)  # in shop.CATALOGUE's order
    order_lines: int = 0
    order_campaigns: list[tuple[int, str | None]] = field(default_factory=list)  # shop -> campaigns
    _sounds: dict[tuple[str, bool], str | None] = field(default_factory=dict)
    _folds: dict[str, str] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)

    def fold(self, text: str) -> str:
        """values.fold, remembered: cities repeat a lot."""
        found = self._folds.get(text)
        if found is None:
            found = self._folds[text] = fold(text)
        return found

    def key(self, text: str) -> str:
        """values.fold_variants, remembered: names repeat, and the search index needs them too."""
        found = self._keys.get(text)
        if found is None:
            found = self._keys[text] = fold_variants(text)
        return found

    def sound(self, name: str, *, company: bool = False) -> str | None:
        """values.sound_key, remembered: names repeat."""
        key = (name, company)
        if key not in self._sounds:
            self._sounds[key] = sound_key(name, company=company)
        return self._sounds[key]

    def moment(self, after: datetime | None = None) -> datetime:
        """A moment between `after` (default: two years ago) and now, to the second."""
        start = after or self.now - timedelta(days=HISTORY_DAYS)
        span = (self.now - start).total_seconds()
        return start + timedelta(seconds=int(self.rng.random() * span))

    def later(self, created: datetime) -> datetime:
        """updated_at: untouched since creation for some records, changed later for most."""
        return created if self.rng.random() < 0.4 else self.moment(after=created)

    def country(self) -> str:
        return "DE" if self.rng.random() < 0.94 else self.rng.choice(("AT", "CH"))

    def place(self, country: str) -> tuple[str, str, str, str]:
        """(street and number, zip, city, phone area code) somewhere in `country`."""
        rng = self.rng
        street = rng.choice(STREETS if rng.random() < 0.5 else self.streets)
        number = f"{rng.randint(1, 180)}{rng.choice('abc') if rng.random() < 0.08 else ''}"
        if country == "DE" and rng.random() < 0.12:  # a small town from faker
            city, first, last = rng.choice(self.towns), 1067, 99998
            area = f"0{rng.randint(2, 9)}{rng.randint(100, 999)}"
        else:
            city, first, last, area, _ = CITY_CHOICES[country](rng)
        width = 5 if country == "DE" else 4
        return f"{street} {number}", f"{rng.randint(first, last):0{width}d}", city, area

    def phone(
        self, country: str, area: str, *, mobile: bool = False, rng: random.Random | None = None
    ) -> tuple[str, str]:
        """(the number as a person types it, its E.164) in `area`, or a German mobile."""
        rng = rng or self.rng
        if country == "DE" and mobile:
            prefix = rng.choice(MOBILE)
            digits = 8 if prefix[1] == "5" or prefix in ("176", "177", "179") else 7
            number = str(rng.randint(2 * 10 ** (digits - 1), 10**digits - 1))
            typed = rng.choice((f"0{prefix} {number}", f"+49 {prefix} {number}",
                                f"0{prefix}-{number}", f"0{prefix}/{number}"))  # fmt: skip
            return typed, f"+49{prefix}{number}"
        if country == "CH":  # always 9 digits after +41, written in groups
            n = str(rng.randint(2000000, 9999999))
            return f"+41 {area} {n[:3]} {n[3:5]} {n[5:]}", f"+41{area}{n}"
        trunk = area if country == "DE" else f"0{area}"
        digits = 11 - len(trunk) - rng.randint(0, 1)
        number = str(rng.randint(2 * 10 ** (digits - 1), 10**digits - 1))
        if country == "AT":
            return f"+43 {area} {number}", f"+43{area}{number}"
        typed = rng.choice((f"{area} {number}", f"({area}) {number}", f"{area}/{number}",
                            f"+49 {area[1:]} {number}"))  # fmt: skip
        return typed, f"+49{area[1:]}{number}"


# Weighted by population**0.6: flatter than the real thing, so small towns show up too.
CITY_CHOICES = {
    country: Choice([(row, row[-1] ** 0.6) for row in cities])
    for country, cities in (("DE", _DE_CITIES), ("AT", _AT_CITIES), ("CH", _CH_CITIES))
}


@functools.lru_cache(maxsize=8192)
def ascii_name(text: str) -> str:
    """A name as the local part of an email address: Jürgen → juergen, Çelik → celik."""
    text = unicodedata.normalize("NFKD", text.lower().translate(ASCII))
    text = "".join(c for c in text if c.isascii() and (c.isalnum() or c in ".-"))
    return ".".join(p.strip("-") for p in text.split(".") if p.strip("-"))


def pools(seed: int) -> dict[str, list[str]]:
    """Faker's de_DE data, drawn once: a few thousand calls instead of millions."""
    from faker import Faker

    fake = Faker("de_DE")
    fake.seed_instance(seed)

    def pool(make: Callable[[], str], n: int, keep: Callable[[str], bool]) -> list[str]:
        return [s for s in (make() for _ in range(n)) if keep(s)]

    def plain(s: str) -> bool:  # no "H.-Dieter", "Hans D."
        return "." not in s and bool(ascii_name(s))

    return {
        "first_female": pool(fake.first_name_female, 600, plain),
        "first_male": pool(fake.first_name_male, 600, plain),
        "last_names": pool(fake.last_name, 800, plain),
        "streets": pool(fake.street_name, 400, bool),
        "towns": pool(fake.city, 300, bool),
        "jobs": pool(fake.job, 200, lambda s: len(s) < 40),
        "faker_companies": pool(fake.company, 300, bool),
    }
