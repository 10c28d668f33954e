"""Search finds contacts by their company's city, their phone numbers and their custom fields.

A contact's index entry now holds, after its name, email, company, city and notes: its
company's city when it has none of its own, its custom-field values (in key order), and its
phone's words; a company's entry holds its phone's words. A phone's words are its E.164
digits (494048977063), its national digits (04048977063) and its digits backwards behind
"zz" (zz360779840494), so that a caller id's last digits find it as a prefix.

The entries of every contact and company are rebuilt here from the rows with SQL and a frozen
copy of how services.search composes them (the text of each part folded by
values.fold_variants, as the index has always been); activity and deal entries are kept.
"""

import re

from peewee import SqliteDatabase

from crmcli.values import fold_variants

CHUNK = 500
_PG_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _body(*parts):
    return " ".join(fold_variants(p) for p in parts if p)


def _country_codes():
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return {str(code) for code in COUNTRY_CODE_TO_REGION_CODE}


def _phone_words(phone, e164, codes):
    if e164 and e164.startswith("+") and e164[1:].isdigit():
        digits = e164[1:]
        words = [digits]
        code = next((digits[:n] for n in (1, 2, 3) if digits[:n] in codes), None)
        if code:
            words.append("0" + digits[len(code) :])
    else:
        digits = re.sub(r"\D", "", phone or "")
        if len(digits) < 5:
            return ""
        words = [digits]
    words.append("zz" + digits[::-1])
    return " ".join(words)


def _joined(text, words):
    return f"{text} {words}" if text and words else text or words


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    codes = _country_codes()
    values = {}
    for cid, value in db.execute_sql(
        "SELECT contact_id, value FROM contact_field ORDER BY contact_id, key"
    ).fetchall():
        values.setdefault(cid, []).append(value)
    entries = []
    people = db.execute_sql(
        "SELECT c.id, c.name, c.email, f.name, c.city, f.city, c.notes, c.phone, c.phone_e164 "
        "FROM contact c LEFT JOIN company f ON f.id = c.company_id"
    ).fetchall()
    for cid, name, email, firm, city, firm_city, notes, phone, e164 in people:
        text = _body(name, email, firm, city or firm_city, notes, *values.get(cid, ()))
        entries.append((cid * 8 + 1, _joined(text, _phone_words(phone, e164, codes))))
    firms = db.execute_sql(
        "SELECT id, name, domain, email, city, notes, phone, phone_e164 FROM company"
    ).fetchall()
    for fid, name, domain, email, city, notes, phone, e164 in firms:
        text = _body(name, domain, email, city, notes)
        entries.append((fid * 8 + 2, _joined(text, _phone_words(phone, e164, codes))))
    if sqlite:
        db.execute_sql("DELETE FROM search_index WHERE rowid % 8 IN (1, 2)")
        head, mark, rows = "INSERT INTO search_index (rowid, body) VALUES ", "(?, ?)", entries
    else:
        db.execute_sql("DELETE FROM search_index WHERE mod(rowid, 8) IN (1, 2)")
        head = "INSERT INTO search_index (rowid, body, tsv) VALUES "
        mark = "(%s, %s, to_tsvector('simple', %s))"
        rows = [(r, text, " ".join(_PG_WORD.findall(text))) for r, text in entries]
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        db.execute_sql(head + ", ".join([mark] * len(chunk)), [v for row in chunk for v in row])
    if sqlite:
        # Rewritten in place, the index is left in many segments that every query merges
        # (search 3-4x slower at 100k contacts); merged into one, it is as fast as new.
        db.execute_sql("INSERT INTO search_index (search_index) VALUES ('optimize')")
