"""`crm demo`: a database full of realistic German sample data, of any size, for trying things.

Faker (de_DE) is slow per call, so it fills small pools once (names, streets, towns, jobs,
company names) and a seeded random.Random combines them: 100,000 contacts take seconds.
Columns are normalised with the same values functions the services use (fold, fold_variants;
phone numbers are made valid, with the E.164 that parse_phone gives). Everything is written in
one transaction with multi-row inserts, the search index included (search.put). The same seed
and clock give the same data.

Each kind of record has one generator (`_companies`, `_contacts`, `_tags`, `_contact_tags`,
`_contact_fields`, ...) that reads what earlier ones made from `_Demo` and returns how many
rows it wrote; a new kind (activities, tasks, deals) is one more entry in `fill_demo`'s steps.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crmcli.errors import Conflict, Invalid
from crmcli.models import (
    Company,
    CompanyTag,
    Contact,
    ContactField,
    ContactTag,
    Tag,
    database_proxy,
    utcnow,
)
from crmcli.services import demo_pipeline as pipeline
from crmcli.services import demo_timeline as timeline
from crmcli.services import search
from crmcli.services.tags import clean_tag
from crmcli.values import fold, fold_variants, to_utc

MAX_CONTACTS = 2_000_000
HISTORY_DAYS = 730  # records were created over the last two years


def _words(text: str) -> list[str]:
    return text.split()


class _Choice:
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
_COMMON_LAST_NAMES = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann "
    "König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert "
    "Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke "
    "Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein "
    "Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Dietrich Ziegler Kühn "
    "Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold Pfeiffer Yılmaz Kaya Nowak Öztürk"
)
_STREETS = _words(
    "Hauptstraße Bahnhofstraße Schulstraße Gartenstraße Dorfstraße Bergstraße Lindenstraße "
    "Kirchstraße Goethestraße Schillerstraße Mühlenweg Friedrichstraße Ringstraße Feldstraße "
    "Waldstraße Rosenweg Birkenweg Jahnstraße Parkstraße Industriestraße Poststraße "
    "Marktplatz Brückenstraße Königstraße Lessingstraße Mozartstraße Gewerbestraße"
) + ["Am Markt", "Auf der Höhe", "Im Gewerbepark", "An der Mühle"]
# (word, industry): "Müller Bau GmbH"
_TRADES = [
    ("Bau", "Bauwesen"), ("Holzbau", "Bauwesen"), ("Elektrotechnik", "Elektrotechnik"),
    ("Haustechnik", "Handwerk"), ("Sanitär", "Handwerk"), ("Metallbau", "Metallverarbeitung"),
    ("Maschinenbau", "Maschinenbau"), ("Feinmechanik", "Maschinenbau"), ("Logistik", "Logistik"),
    ("Immobilien", "Immobilien"), ("Consulting", "Beratung"), ("Steuerberatung", "Beratung"),
    ("Software", "IT & Software"), ("IT-Service", "IT & Software"), ("Medien", "Medien"),
    ("Druck", "Druck & Papier"), ("Kunststofftechnik", "Chemie & Kunststoff"),
    ("Gebäudereinigung", "Dienstleistungen"), ("Personalservice", "Dienstleistungen"),
    ("Energietechnik", "Energie"), ("Solar", "Energie"), ("Möbel", "Handel"),
    ("Getränke", "Lebensmittel"), ("Verpackung", "Industrie"), ("Reisen", "Tourismus"),
    ("Catering", "Gastronomie"), ("Versicherungsmakler", "Finanzen"), ("Textil", "Handel"),
]  # fmt: skip
# (word, industry): "Bäckerei Weiß e.K."
_SHOPS = [
    ("Bäckerei", "Lebensmittelhandwerk"), ("Metzgerei", "Lebensmittelhandwerk"),
    ("Autohaus", "Automobil"), ("Spedition", "Logistik"), ("Malerbetrieb", "Handwerk"),
    ("Schreinerei", "Handwerk"), ("Dachdeckerei", "Handwerk"), ("Gärtnerei", "Gartenbau"),
    ("Apotheke", "Gesundheit"), ("Optik", "Gesundheit"), ("Fahrschule", "Bildung"),
    ("Friseursalon", "Dienstleistungen"), ("Blumenhaus", "Handel"), ("Weingut", "Lebensmittel"),
]  # fmt: skip
_BRANDS = _words(
    "Nordlicht Rheintal Elbtal Alpenblick Spreewald Isartal Weserland Ostsee Nordsee Harzer "
    "Schwarzwald Eifel Bodensee Sonnenhof Grünwerk Blautal Mainufer Moselblick"
)
# (legal form, weight); e.K. is for shops only, e.U. is the Austrian e.K.
_FORMS = _Choice([
    ("GmbH", 45), ("GmbH & Co. KG", 15), ("AG", 8), ("KG", 5),
    ("UG (haftungsbeschränkt)", 5), ("OHG", 2), ("GbR", 2),
])  # fmt: skip
_POSITIONS = (
    ("Geschäftsführer", "Geschäftsführerin"), ("Inhaber", "Inhaberin"),
    ("Prokurist", "Prokuristin"), ("Vertriebsleiter", "Vertriebsleiterin"),
    ("Einkaufsleiter", "Einkaufsleiterin"), ("Leiter Marketing", "Leiterin Marketing"),
    ("IT-Leiter", "IT-Leiterin"), ("Projektleiter", "Projektleiterin"),
    ("Technischer Leiter", "Technische Leiterin"),
    ("Sachbearbeiter Einkauf", "Sachbearbeiterin Einkauf"),
    ("Buchhalter", "Buchhalterin"), ("Personalreferent", "Personalreferentin"),
    ("Assistent der Geschäftsführung", "Assistentin der Geschäftsführung"),
    ("Key Account Manager", "Key Account Managerin"), ("Bauleiter", "Bauleiterin"),
    ("Office-Manager", "Office-Managerin"),
)  # fmt: skip
_STATUSES = _Choice((("lead", 35), ("prospect", 20), ("customer", 35), ("inactive", 10)))
_SOURCES = _Choice((
    ("Website", 28), ("Empfehlung", 20), ("Messe", 12), ("Kaltakquise", 9),
    ("Newsletter", 8), ("LinkedIn", 12), ("Google Ads", 8), (None, 3),
))  # fmt: skip
_OWNERS = ("Anna Schmidt", "Jonas Becker", "Lea Wagner", "Mehmet Yılmaz", "Sophie Hoffmann",
           "Lukas Köhler")  # fmt: skip
_NOTES = (
    "Bevorzugt Kontakt per E-Mail.", "Bitte nur vormittags anrufen.",
    "Interessiert an einem Angebot für {product}.",
    "Hat auf der Messe in {city} nach Preisen gefragt.",
    "Rückruf vereinbart, sobald das Budget für das nächste Quartal steht.",
    "Entscheidet zusammen mit der Geschäftsführung.",
    "Zahlt zuverlässig, meist innerhalb von 14 Tagen.",
    "Möchte keine Werbeanrufe.", "Sehr zufrieden mit dem letzten Projekt.",
    "Wünscht eine Vorführung vor Ort in {city}.", "Spricht auch Englisch und Französisch.",
    "Hat Interesse an einer Schulung für das Team.",
    "Vertrag läuft im Herbst aus, rechtzeitig nachfassen.",
    "Größere Bestellung für {product} angekündigt.", "Reklamation vom Frühjahr ist erledigt.",
    "Kam über eine Empfehlung von {owner}.",
)  # fmt: skip
_PRODUCTS = ("einen Wartungsvertrag", "Softwarelizenzen", "Büromöbel", "die Premium-Version",
             "eine Sonderanfertigung", "Schulungen", "das Jahresabo")  # fmt: skip
_MOBILE = ("151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "179")
_PRIVATE_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: never a real inbox
_ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "ø": "o", "æ": "ae", "ł": "l"}
)
# Columns the generators fill, in insert order; the names are the model fields.
COMPANY_COLUMNS = (
    "name", "name_fold", "name_key", "domain", "industry", "phone", "phone_e164", "email",
    "street", "zip", "city", "city_fold", "country", "notes", "created_at", "updated_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "name", "name_key", "email", "email_key", "phone", "phone_e164", "company", "position",
    "street", "zip", "city", "city_fold", "country", "birthday", "birthday_md",
    "birthday_reminded", "status", "source", "owner", "notes", "consent", "consent_at",
    "created_at", "updated_at",
)  # fmt: skip


@dataclass
class _Demo:
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
        street = rng.choice(_STREETS if rng.random() < 0.5 else self.streets)
        number = f"{rng.randint(1, 180)}{rng.choice('abc') if rng.random() < 0.08 else ''}"
        if country == "DE" and rng.random() < 0.12:  # a small town from faker
            city, first, last = rng.choice(self.towns), 1067, 99998
            area = f"0{rng.randint(2, 9)}{rng.randint(100, 999)}"
        else:
            city, first, last, area, _ = _CITY_CHOICES[country](rng)
        width = 5 if country == "DE" else 4
        return f"{street} {number}", f"{rng.randint(first, last):0{width}d}", city, area

    def phone(self, country: str, area: str, *, mobile: bool = False) -> tuple[str, str]:
        """(the number as a person types it, its E.164) in `area`, or a German mobile."""
        rng = self.rng
        if country == "DE" and mobile:
            prefix = rng.choice(_MOBILE)
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
_CITY_CHOICES = {
    country: _Choice([(row, row[-1] ** 0.6) for row in cities])
    for country, cities in (("DE", _DE_CITIES), ("AT", _AT_CITIES), ("CH", _CH_CITIES))
}


@functools.lru_cache(maxsize=8192)
def _ascii(text: str) -> str:
    """A name as the local part of an email address: Jürgen → juergen, Çelik → celik."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_ASCII))
    text = "".join(c for c in text if c.isascii() and (c.isalnum() or c in ".-"))
    return ".".join(p.strip("-") for p in text.split(".") if p.strip("-"))


def _pools(seed: int) -> dict[str, list[str]]:
    """Faker's de_DE data, drawn once: a few thousand calls instead of millions."""
    from faker import Faker

    fake = Faker("de_DE")
    fake.seed_instance(seed)

    def pool(make: Callable[[], str], n: int, keep: Callable[[str], bool]) -> list[str]:
        return [s for s in (make() for _ in range(n)) if keep(s)]

    def plain(s: str) -> bool:  # no "H.-Dieter", "Hans D."
        return "." not in s and bool(_ascii(s))

    return {
        "first_female": pool(fake.first_name_female, 600, plain),
        "first_male": pool(fake.first_name_male, 600, plain),
        "last_names": pool(fake.last_name, 800, plain),
        "streets": pool(fake.street_name, 400, bool),
        "towns": pool(fake.city, 300, bool),
        "jobs": pool(fake.job, 200, lambda s: len(s) < 40),
        "faker_companies": pool(fake.company, 300, bool),
    }


def _insert(model, columns: Sequence[str], rows: list[dict], convert=None) -> list[int]:
    """Insert dict rows (the given columns, some converted); the new ids in the order of rows."""
    from peewee import fn

    pairs = [(c, (convert or {}).get(c)) for c in columns]
    before = model.select(fn.MAX(model.id)).scalar() or 0
    values = ([r[c] if f is None else f(r[c]) for c, f in pairs] for r in rows)
    _bulk(model, [model._meta.fields[c] for c in columns], values)
    query = model.select(model.id).where(model.id > before).order_by(model.id).tuples()
    ids = [i for (i,) in query]
    if len(ids) != len(rows):  # another writer interleaved: better nothing than a wrong link
        raise Conflict("the database changed while crm demo was writing; run it again")
    return ids


def _bulk(model, fields: Sequence, rows: Iterable[Sequence]) -> int:
    """Insert value tuples in statements of many rows each, with SQL made once per size:
    peewee's insert_many spends most of its time building SQL at this size, and
    executemany would cost PostgreSQL (psycopg2) a round trip per row."""
    from peewee import TextField

    fields = list(fields)
    one = model.insert_many([[None] * len(fields)], fields=fields).returning()  # no ids back
    sql, params = one.sql()
    if len(params) != len(fields) or not sql.endswith(")"):  # peewee added a column
        raise RuntimeError(f"demo rows for {model.__name__} miss a column: {sql}")
    head, _, one_row = sql.rpartition(" VALUES ")
    # Text columns get str or None already; the rest go through the field (UTC datetimes...).
    adapt = [None if isinstance(f, TextField) else f.db_value for f in fields]
    size = max(1, min(1000, _MAX_PARAMETERS // len(fields)))
    db, rows, count = database_proxy.obj, iter(rows), 0
    while chunk := list(itertools.islice(rows, size)):
        values = [
            v if a is None else a(v) for row in chunk for a, v in zip(adapt, row, strict=True)
        ]
        db.execute_sql(f"{head} VALUES {', '.join([one_row] * len(chunk))}", values)
        count += len(chunk)
    return count


# SQLite takes 32,766 parameters a statement (since 3.32; 999 before), PostgreSQL 65,535.
_MAX_PARAMETERS = 30_000 if sqlite3.sqlite_version_info >= (3, 32) else 999


# ---------------------------------------------------------------- generators, one per kind


def _company_name(d: _Demo, country: str) -> tuple[str, str, str]:
    """(name without legal form, legal form, industry): Müller Bau GmbH, Bäckerei Weiß e.K."""
    rng = d.rng
    last = rng.choice(_COMMON_LAST_NAMES if rng.random() < 0.6 else d.last_names)
    form = _FORMS(rng)
    roll = rng.random()
    if roll < 0.22:
        shop, industry = rng.choice(_SHOPS)
        if rng.random() < 0.7:
            form = {"DE": "e.K.", "AT": "e.U."}.get(country, "GmbH")
        return f"{shop} {last}", form, industry
    trade, industry = rng.choice(_TRADES)
    if roll < 0.55:
        return f"{last} {trade}", form, industry
    if roll < 0.63:
        return f"{last} & Partner", rng.choice(("AG", "GmbH", "PartG mbB")), industry
    if roll < 0.70:
        return f"{last} & {rng.choice(_COMMON_LAST_NAMES)}", form, industry
    if roll < 0.85:
        return f"{rng.choice(_BRANDS)} {trade}", form, industry
    found = _FAKER_FORM.fullmatch(rng.choice(d.faker_companies))  # "Roskoth e.V.", "Heser"
    return found[1], found[2] or form, industry


# the legal forms faker's de_DE company() puts at the end, if any
_FAKER_FORM = re.compile(
    r"(.+?)(?: ((?:GmbH|AG|Stiftung)(?: & Co\. (?:KGaA|KG|OHG))?|KGaA|KG|OHG mbH|OHG|GbR"
    r"|e\.G\.|e\.V\.))?"
)


def _companies(d: _Demo, n: int) -> int:
    """Companies with a unique folded name, a reserved .example domain, address and phone."""
    rng, names, domains = d.rng, set(), set()
    for _ in range(n):
        country = d.country()
        for attempt in itertools.count():  # ends: from the 10th try on the number grows
            base, form, industry = _company_name(d, country)
            if attempt >= 6:  # a crowded name: call it a branch, "Müller Bau Nord GmbH"
                base += f" {rng.choice(_REGIONS)}"
            if attempt >= 10:
                base += f" {attempt - 8}"
            name = f"{base} {form}".strip()
            if fold(name) not in names:
                break
        names.add(fold(name))
        slug = "-".join(filter(None, (_ascii(w) for w in base.replace("&", " ").split())))
        slug, k = slug[:40].strip("-.") or "firma", 1
        domain = f"{slug}.example"  # reserved (RFC 2606): never somebody's real inbox
        while domain in domains:
            k += 1
            domain = f"{slug}{k}.example"
        domains.add(domain)
        street, zip_, city, area = d.place(country)
        phone, e164 = d.phone(country, area)
        created = d.moment()
        d.companies.append({
            "name": name, "name_fold": fold(name), "name_key": fold_variants(name),
            "domain": domain, "industry": industry, "phone": phone, "phone_e164": e164,
            "email": f"{rng.choice(('info', 'kontakt', 'service', 'office'))}@{domain}",
            "street": street, "zip": zip_, "city": city, "city_fold": d.fold(city),
            "country": country, "notes": _note(d, city) if rng.random() < 0.2 else None,
            "created_at": created, "updated_at": d.later(created), "area": area,
        })  # fmt: skip
    d.companies.sort(key=lambda c: c["created_at"])  # ids grow with time, as in real use
    d.company_ids = _insert(Company, COMPANY_COLUMNS, d.companies)
    return n


def _note(d: _Demo, city: str) -> str:
    rng = d.rng
    text = " ".join(rng.sample(_NOTES, 1 if rng.random() < 0.7 else 2))
    return text.format(product=rng.choice(_PRODUCTS), city=city, owner=rng.choice(_OWNERS))


def _contacts(d: _Demo, n: int) -> int:
    """People: about 85% at a company (sharing its address and domain), the rest private."""
    rng, firms, emails = d.rng, d.companies, {}
    cum, total = [], 0.0  # a few companies have many people, most a handful, some none
    for _ in firms:
        total += min(rng.paretovariate(1.3), 60.0)
        cum.append(total)
    for _ in range(n):
        female = rng.random() < 0.5
        first = rng.choice(d.first_female if female else d.first_male)
        last = rng.choice(_COMMON_LAST_NAMES if rng.random() < 0.55 else d.last_names)
        if rng.random() < 0.04:
            last += "-" + rng.choice(_COMMON_LAST_NAMES)
        name = ("Dr. " if rng.random() < 0.04 else "") + f"{first} {last}"
        firm = None
        if firms and rng.random() < 0.85:
            firm = rng.choices(range(len(firms)), cum_weights=cum)[0]
        if firm is None:
            country = d.country()
            street, zip_, city, area = d.place(country)
            position = rng.choice(d.jobs) if rng.random() < 0.35 else None
            domain, created = rng.choice(_PRIVATE_DOMAINS), d.moment()
        else:
            c = firms[firm]
            country, street, zip_, city, area = (c[k] for k in _FIRM_ADDRESS)
            position = rng.choice(_POSITIONS)[female] if rng.random() < 0.9 else None
            domain, created = c["domain"], d.moment(after=c["created_at"])
        phone = e164 = email = None
        if rng.random() < 0.9:
            mobile = rng.random() < (0.6 if firm is None else 0.3)
            phone, e164 = d.phone(country, area, mobile=mobile)
        if rng.random() < 0.95:
            f, la = _ascii(first.split()[0]), _ascii(last)
            local = rng.choice((f"{f}.{la}", f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la}", f"{f}_{la}"))
            count = emails[(local, domain)] = emails.get((local, domain), 0) + 1
            email = f"{local}{count if count > 1 else ''}@{domain}"
        updated = d.later(created)
        consent = rng.random() < 0.4
        birthday = None
        if rng.random() < 0.6:
            birthday = d.now.date() - timedelta(days=rng.randint(18 * 365, 75 * 365))
        d.contacts.append({
            "name": name, "name_key": d.key(name), "email": email, "email_key": email,
            "phone": phone, "phone_e164": e164, "company": firm, "position": position,
            "street": street, "zip": zip_, "city": city, "city_fold": d.fold(city),
            "country": country, "birthday": birthday,
            "birthday_md": birthday.strftime("%m-%d") if birthday else None,
            "birthday_reminded": 0,
            "status": _STATUSES(rng),
            "source": _SOURCES(rng),
            "owner": rng.choice(_OWNERS) if rng.random() < 0.9 else None,
            "notes": _note(d, city) if rng.random() < 0.25 else None, "consent": consent,
            "consent_at": _between(d, created, updated) if consent else None,
            "created_at": created, "updated_at": updated,
        })  # fmt: skip
    d.contacts.sort(key=lambda r: r["created_at"])  # ids grow with time, as in real use
    ids = d.company_ids
    link = {"company": lambda i: None if i is None else ids[i]}
    d.contact_ids = _insert(Contact, CONTACT_COLUMNS, d.contacts, convert=link)
    return n


_FIRM_ADDRESS = ("country", "street", "zip", "city", "area")
_REGIONS = ("Nord", "Süd", "West", "Ost", "Mitte", "Rhein-Main", "Bayern", "Sachsen")


def _between(d: _Demo, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(d.rng.random() * (end - start).total_seconds()))


def _tags(d: _Demo) -> int:
    """The demo's tags (existing ones with the same folded name are reused)."""
    names = [clean_tag(t) for t in (*_TAGS, f"messe-{d.now.year}")]
    existing = dict(Tag.select(Tag.name_fold, Tag.id).tuples())
    new = [(t, fold(t), d.now, d.now) for t in names if fold(t) not in existing]
    _bulk(Tag, (Tag.name, Tag.name_fold, Tag.created_at, Tag.updated_at), new)
    ids = dict(Tag.select(Tag.name_fold, Tag.id).tuples())
    d.tag_ids = {t: ids[fold(t)] for t in names}
    return len(names)


_TAGS = ("vip", "newsletter", "b2b", "b2c", "stammkunde", "key-account", "wiederverkäufer",
         "partner", "presse")  # fmt: skip


def _contact_tags(d: _Demo) -> int:
    """Tags on a realistic share of contacts: b2b/b2c, newsletter for consent, messe for fairs."""
    rng, tag, rows = d.rng, d.tag_ids, []
    messe = tag[f"messe-{d.now.year}"]
    for cid, c in zip(d.contact_ids, d.contacts, strict=True):
        business = c["company"] is not None
        chances = (
            (tag["b2b"] if business else tag["b2c"], 0.6 if business else 0.5),
            (tag["newsletter"], 0.75 if c["consent"] else 0.0),
            (tag["vip"], 0.04),
            (tag["stammkunde"], 0.45 if c["status"] == "customer" else 0.0),
            (messe, 0.7 if c["source"] == "Messe" else 0.02),
            (tag["key-account"], 0.04 if business else 0.0),
            (tag["wiederverkäufer"], 0.03 if business else 0.0),
            (tag["partner"], 0.02),
            (tag["presse"], 0.01),
        )
        rows += [(cid, t) for t, p in chances if rng.random() < p]
    return _bulk(ContactTag, (ContactTag.contact, ContactTag.tag), rows)


def _company_tags(d: _Demo) -> int:
    rng, tag, rows = d.rng, d.tag_ids, []
    chances = (("b2b", 0.2), ("key-account", 0.08), ("partner", 0.06), ("wiederverkäufer", 0.06))
    for company_id in d.company_ids:
        rows += [(company_id, tag[t]) for t, p in chances if rng.random() < p]
    return _bulk(CompanyTag, (CompanyTag.company, CompanyTag.tag), rows)


def _contact_fields(d: _Demo) -> int:
    """Custom fields: kundennummer for (former) customers, umsatzklasse, zahlungsziel, kanal."""
    rng, rows, number = d.rng, [], 10000
    for cid, c in zip(d.contact_ids, d.contacts, strict=True):
        if c["status"] in ("customer", "inactive"):
            number += rng.randint(1, 3)
            rows.append((cid, "kundennummer", f"K-{number}"))
            if rng.random() < 0.3:
                rows.append((cid, "zahlungsziel", rng.choice(("14 Tage", "30 Tage", "60 Tage"))))
        if c["company"] is not None and c["status"] != "lead" and rng.random() < 0.5:
            rows.append((cid, "umsatzklasse", rng.choices("ABC", weights=(2, 3, 5))[0]))
        if rng.random() < 0.15:
            kanal = rng.choice(("E-Mail", "Telefon", "Post", "LinkedIn"))
            rows.append((cid, "bevorzugter-kanal", kanal))
    fields = (ContactField.contact, ContactField.key, ContactField.value)
    return _bulk(ContactField, fields, rows)


def _search_index(d: _Demo) -> int:
    """The entries search.contact_entries() and company_entries() would make (a test holds
    them equal), built from the rows in memory with each repeated part folded only once:
    at 100,000 contacts that is seconds faster than reading every row back."""
    # Names were folded for name_key already; the index folds them the same way (the test
    # that holds the entries equal to the search service's would catch a change there).
    folded: dict[str, str] = dict(d._keys)

    def body(*parts: str | None) -> str:  # search.body(*parts), part by part
        return " ".join(folded.get(p) or folded.setdefault(p, search.body(p)) for p in parts if p)

    entries = []
    for i, c in zip(d.company_ids, d.companies, strict=True):
        text = body(c["name"], c["domain"], c["email"], c["city"], c["notes"])
        entries.append((search.rowid("company", i), text))
    firms = [c["name"] for c in d.companies]
    for i, c in zip(d.contact_ids, d.contacts, strict=True):
        firm = None if c["company"] is None else firms[c["company"]]
        text = body(c["name"], c["email"], firm, c["city"], c["notes"])
        entries.append((search.rowid("contact", i), text))
    entries += timeline.activity_entries(d)
    entries += pipeline.deal_entries(d)
    search.put(entries)
    return len(entries)


# ---------------------------------------------------------------- the service


def _clear() -> None:
    """Remove every record the demo makes, and the search index."""
    from crmcli.models import Activity, Deal, DealStageChange, ReminderLog, Task

    for model in (
        ReminderLog,
        Task,
        Activity,
        DealStageChange,
        Deal,
        ContactTag,
        CompanyTag,
        ContactField,
        Contact,
        Company,
        Tag,
    ):
        model.delete().execute()
    database_proxy.obj.execute_sql("DELETE FROM search_index")


def _plural(n: int, word: str, words: str) -> str:
    return f"{n} {word if n == 1 else words}"


def fill_demo(
    *,
    contacts: int = 200,
    companies: int | None = None,
    seed: int = 2026,
    force: bool = False,
    now: datetime | None = None,
    activities: int | None = None,
    tasks: int | None = None,
    deals: int | None = None,
) -> dict:
    """Fill the database with German sample data: `contacts` people at `companies` companies
    (default one per eight people). Refuses a database that holds contacts or companies unless
    `force`, which replaces them (with tags, custom fields and search entries). The same seed
    and `now` give the same data. Returns how many rows of each kind were made and removed."""
    if not 0 <= contacts <= MAX_CONTACTS:
        raise Invalid("contacts", f"{contacts} is not between 0 and {MAX_CONTACTS:,}")
    if companies is None:
        companies = max(1, contacts // 8)
    if activities is None:  # five a contact; one a contact past 10,000, so big demos stay quick
        activities = contacts * 5 if contacts <= 10_000 else 40_000 + contacts
    tasks = max(20, contacts // 10) if tasks is None else tasks
    if not 0 <= activities <= 20 * MAX_CONTACTS or not 0 <= tasks <= MAX_CONTACTS:
        raise Invalid("activities", "too many activities or tasks for a demo")
    if not 0 <= companies <= MAX_CONTACTS:
        raise Invalid("companies", f"{companies} is not between 0 and {MAX_CONTACTS:,}")
    deals = (max(20, contacts // 4) if contacts else 0) if deals is None else deals
    if not 0 <= deals <= MAX_CONTACTS:
        raise Invalid("deals", f"{deals} is not between 0 and {MAX_CONTACTS:,}")
    now = to_utc(now or utcnow()).replace(microsecond=0)
    with database_proxy.atomic():
        from crmcli.models import Activity, Task

        held = Contact.select().count(), Company.select().count()
        others = Task.select().count() + Activity.select().count()
        if (any(held) or others) and not force:
            extra = f" and {_plural(others, 'task or activity', 'tasks and activities')}"
            raise Conflict(
                f"the database already holds {_plural(held[0], 'contact', 'contacts')}, "
                f"{_plural(held[1], 'company', 'companies')}{extra if others else ''}; "
                "crm demo --force replaces them"
            )
        if force:
            _clear()
        d = _Demo(rng=random.Random(seed), now=now, **_pools(seed))
        steps = (  # in order: each may use what the ones before made
            ("companies", lambda: _companies(d, companies)),
            ("contacts", lambda: _contacts(d, contacts)),
            ("tags", lambda: _tags(d)),
            ("contact_tags", lambda: _contact_tags(d)),
            ("company_tags", lambda: _company_tags(d)),
            ("custom_fields", lambda: _contact_fields(d)),
            ("activities", lambda: timeline.activities(d, activities, _bulk, _OWNERS)),
            ("tasks", lambda: timeline.tasks(d, tasks, _bulk)),
            ("cadences", lambda: timeline.cadences(d, _bulk)),
            ("deals", lambda: pipeline.deals(d, deals, _insert, _bulk, _OWNERS)),
            ("search_entries", lambda: _search_index(d)),  # last: it indexes all the others
        )
        counts = {key: make() for key, make in steps}
        counts["activities"] += getattr(d, "touched", 0)  # calls that keep cadences in time
        from crmcli.services.reminders import rebuild_queues

        rebuild_queues()  # bulk inserts bypass the services that keep the reminder queues
    return {
        "contacts": counts.pop("contacts"),
        **counts,
        "removed_contacts": held[0],
        "removed_companies": held[1],
    }
