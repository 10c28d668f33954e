"""The demo's people and companies: names, addresses, phones, emails, tags and custom fields,
each generator reading what earlier ones made from the shared Demo and returning its count."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

from crmcli.demo.state import Choice, Demo, ascii_name, words
from crmcli.demo.writer import bulk, insert
from crmcli.models import (
    Company,
    CompanyTag,
    Contact,
    ContactEmail,
    ContactField,
    ContactPhone,
    ContactTag,
    Tag,
)
from crmcli.services import search
from crmcli.services.tags import clean_tag
from crmcli.values import fold, fold_variants

_COMMON_LAST_NAMES = words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann "
    "König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert "
    "Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke "
    "Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein "
    "Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Dietrich Ziegler Kühn "
    "Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold Pfeiffer Yılmaz Kaya Nowak Öztürk"
)
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
_BRANDS = words(
    "Nordlicht Rheintal Elbtal Alpenblick Spreewald Isartal Weserland Ostsee Nordsee Harzer "
    "Schwarzwald Eifel Bodensee Sonnenhof Grünwerk Blautal Mainufer Moselblick"
)
# (legal form, weight); e.K. is for shops only, e.U. is the Austrian e.K.
_FORMS = Choice([
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
_STATUSES = Choice((("lead", 35), ("prospect", 20), ("customer", 35), ("inactive", 10)))
_SOURCES = Choice((
    ("Website", 28), ("Empfehlung", 20), ("Messe", 12), ("Kaltakquise", 9),
    ("Newsletter", 8), ("LinkedIn", 12), ("Google Ads", 8), (None, 3),
))  # fmt: skip
OWNERS = ("Anna Schmidt", "Jonas Becker", "Lea Wagner", "Mehmet Yılmaz", "Sophie Hoffmann",
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
PRIVATE_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: never a real inbox
# Columns the generators fill, in insert order; the names are the model fields.
COMPANY_COLUMNS = (
    "name", "name_fold", "name_key", "domain", "industry", "phone", "phone_e164", "email",
    "street", "zip", "city", "city_fold", "country", "notes", "created_at", "updated_at",
    "name_sound",
)  # fmt: skip
CONTACT_COLUMNS = (
    "name", "name_key", "email", "email_key", "phone", "phone_e164", "company", "position",
    "street", "zip", "city", "city_fold", "country", "birthday", "birthday_md",
    "birthday_reminded", "status", "source", "owner", "notes", "consent", "consent_at",
    "created_at", "updated_at", "name_sound",
)  # fmt: skip


def _company_name(d: Demo, country: str) -> tuple[str, str, str]:
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


def companies(d: Demo, n: int) -> int:
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
        slug = "-".join(filter(None, (ascii_name(w) for w in base.replace("&", " ").split())))
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
            "name_sound": d.sound(name, company=True),
        })  # fmt: skip
    d.companies.sort(key=lambda c: c["created_at"])  # ids grow with time, as in real use
    d.company_ids = insert(Company, COMPANY_COLUMNS, d.companies)
    return n


def _note(d: Demo, city: str) -> str:
    rng = d.rng
    text = " ".join(rng.sample(_NOTES, 1 if rng.random() < 0.7 else 2))
    return text.format(product=rng.choice(_PRODUCTS), city=city, owner=rng.choice(OWNERS))


def contacts(d: Demo, n: int) -> int:
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
            domain, created = rng.choice(PRIVATE_DOMAINS), d.moment()
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
            f, la = ascii_name(first.split()[0]), ascii_name(last)
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
            "owner": rng.choice(OWNERS) if rng.random() < 0.9 else None,
            "notes": _note(d, city) if rng.random() < 0.25 else None, "consent": consent,
            "consent_at": _between(d, created, updated) if consent else None,
            "created_at": created, "updated_at": updated, "name_sound": d.sound(name),
            "mobile": phone is not None and mobile,
        })  # fmt: skip
    d.contacts.sort(key=lambda r: r["created_at"])  # ids grow with time, as in real use
    ids = d.company_ids
    link = {"company": lambda i: None if i is None else ids[i]}
    d.contact_ids = insert(Contact, CONTACT_COLUMNS, d.contacts, convert=link)
    return n


_FIRM_ADDRESS = ("country", "street", "zip", "city", "area")
_REGIONS = ("Nord", "Süd", "West", "Ost", "Mitte", "Rhein-Main", "Bayern", "Sachsen")


def contact_addresses(d: Demo) -> int:  # returns the emails; d.phone_rows the phones
    """Every contact's email and phone as its primary row (work at a company, else home; a
    mobile number is a mobile), and for some a second one: a private email beside the work
    one, a mobile beside the landline. A random of its own draws these, so the rest of the
    demo is what it was before contacts had more than one of each."""
    import random

    rng = random.Random(sum(d.rng.getstate()[1][:8]))
    taken = {c["email_key"] for c in d.contacts if c["email_key"]}
    emails, phones = [], []
    for cid, c in zip(d.contact_ids, d.contacts, strict=True):
        business = c["company"] is not None
        more_email = more_phone = None
        if c["email"]:
            emails.append((cid, c["email"], c["email_key"], "work" if business else "home", 1))
            if business and rng.random() < 0.2:
                local = c["email"].split("@")[0]
                for n in range(1, 1000):
                    more_email = f"{local}{n if n > 1 else ''}@{rng.choice(PRIVATE_DOMAINS)}"
                    if more_email not in taken:
                        break
                taken.add(more_email)
                emails.append((cid, more_email, more_email, "home", 0))
        if c["phone"]:
            kind = "mobile" if c["mobile"] else "work" if business else "home"
            phones.append((cid, c["phone"], c["phone_e164"], kind, 1))
            if not c["mobile"] and rng.random() < 0.3:
                more_phone = d.phone("DE", "", mobile=True, rng=rng)
                phones.append((cid, *more_phone, "mobile", 0))
        d.more[cid] = (more_email, more_phone)
    # position 0 for the primary, 1 for the second one
    e_rows = [(cid, e, k, kind, bool(p), 1 - p) for cid, e, k, kind, p in emails]
    p_rows = [(cid, ph, e164, kind, bool(p), 1 - p) for cid, ph, e164, kind, p in phones]
    e_fields = (ContactEmail.contact, ContactEmail.email, ContactEmail.email_key,
                ContactEmail.kind, ContactEmail.is_primary, ContactEmail.position)  # fmt: skip
    p_fields = (ContactPhone.contact, ContactPhone.phone, ContactPhone.phone_e164,
                ContactPhone.kind, ContactPhone.is_primary, ContactPhone.position)  # fmt: skip
    d.phone_rows = bulk(ContactPhone, p_fields, p_rows)
    return bulk(ContactEmail, e_fields, e_rows)


def _between(d: Demo, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(d.rng.random() * (end - start).total_seconds()))


def tags(d: Demo) -> int:
    """The demo's tags (existing ones with the same folded name are reused)."""
    names = [clean_tag(t) for t in (*_TAGS, f"messe-{d.now.year}")]
    existing = dict(Tag.select(Tag.name_fold, Tag.id).tuples())
    new = [(t, fold(t), d.now, d.now) for t in names if fold(t) not in existing]
    bulk(Tag, (Tag.name, Tag.name_fold, Tag.created_at, Tag.updated_at), new)
    ids = dict(Tag.select(Tag.name_fold, Tag.id).tuples())
    d.tag_ids = {t: ids[fold(t)] for t in names}
    return len(names)


_TAGS = ("vip", "newsletter", "b2b", "b2c", "stammkunde", "key-account", "wiederverkäufer",
         "partner", "presse")  # fmt: skip


def contact_tags(d: Demo) -> int:
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
    return bulk(ContactTag, (ContactTag.contact, ContactTag.tag), rows)


def company_tags(d: Demo) -> int:
    rng, tag, rows = d.rng, d.tag_ids, []
    chances = (("b2b", 0.2), ("key-account", 0.08), ("partner", 0.06), ("wiederverkäufer", 0.06))
    for company_id in d.company_ids:
        rows += [(company_id, tag[t]) for t, p in chances if rng.random() < p]
    return bulk(CompanyTag, (CompanyTag.company, CompanyTag.tag), rows)


def contact_fields(d: Demo) -> int:
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
    for cid, _, value in sorted(rows, key=lambda row: (row[0], row[1])):
        d.field_values.setdefault(cid, []).append(value)
    return bulk(ContactField, fields, rows)


def search_entries(d: Demo) -> list[tuple[int, str]]:
    """The entries search.contact_entries() and company_entries() would make (a test holds
    them equal), built from the rows in memory with each repeated part folded only once:
    at 100,000 contacts that is seconds faster than reading every row back."""
    # Names were folded for name_key already; the index folds them the same way (the test
    # that holds the entries equal to the search service's would catch a change there).
    folded: dict[str, str] = dict(d._keys)

    def body(*parts: str | None) -> str:  # search.body(*parts), part by part
        return " ".join(folded.get(p) or folded.setdefault(p, search.body(p)) for p in parts if p)

    def with_phone(text: str, phone: str | None, e164: str | None) -> str:
        words = search.phone_words(phone, e164)  # as search.contact_body/company_body
        return f"{text} {words}" if text and words else text or words

    entries = []
    for i, c in zip(d.company_ids, d.companies, strict=True):
        text = body(c["name"], c["domain"], c["email"], c["city"], c["notes"])
        text = with_phone(text, c["phone"], c["phone_e164"])
        entries.append((search.rowid("company", i), text))
    for i, c in zip(d.contact_ids, d.contacts, strict=True):
        firm = None if c["company"] is None else d.companies[c["company"]]
        city = c["city"] or (firm["city"] if firm else None)
        values = d.field_values.get(i, ())
        more_email, more_phone = d.more.get(i, (None, None))
        text = body(
            c["name"], c["email"], more_email, firm and firm["name"], city, c["notes"], *values
        )
        text = with_phone(text, c["phone"], c["phone_e164"])
        if more_phone:
            text = with_phone(text, *more_phone)
        entries.append((search.rowid("contact", i), text))
    return entries
