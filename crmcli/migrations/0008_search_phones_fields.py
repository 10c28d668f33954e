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

CHUNK = 500  # rows per INSERT
PAGE = 5000  # records read at a time: memory stays small at any size
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


def _contact_entries(db, codes, mark):
    """The contacts' entries, a keyset page at a time (bounded memory at any size)."""
    last = 0
    while True:
        people = db.execute_sql(
            "SELECT c.id, c.name, c.email, f.name, c.city, f.city, c.notes, c.phone, "
            "c.phone_e164 FROM contact c LEFT JOIN company f ON f.id = c.company_id "
            f"WHERE c.id > {mark} ORDER BY c.id LIMIT {PAGE}",
            (last,),
        ).fetchall()
        if not people:
            return
        values = {}
        for cid, value in db.execute_sql(
            "SELECT contact_id, value FROM contact_field "
            f"WHERE contact_id > {mark} AND contact_id <= {mark} ORDER BY contact_id, key",
            (last, people[-1][0]),
        ).fetchall():
            values.setdefault(cid, []).append(value)
        yield [
            (cid * 8 + 1, _joined(
                _body(name, email, firm, city or firm_city, notes, *values.get(cid, ())),
                _phone_words(phone, e164, codes),
            ))
            for cid, name, email, firm, city, firm_city, notes, phone, e164 in people
        ]  # fmt: skip
        last = people[-1][0]


def _company_entries(db, codes, mark):
    last = 0
    while True:
        firms = db.execute_sql(
            "SELECT id, name, domain, email, city, notes, phone, phone_e164 FROM company "
            f"WHERE id > {mark} ORDER BY id LIMIT {PAGE}",
            (last,),
        ).fetchall()
        if not firms:
            return
        yield [
            (fid * 8 + 2, _joined(
                _body(name, domain, email, city, notes), _phone_words(phone, e164, codes)
            ))
            for fid, name, domain, email, city, notes, phone, e164 in firms
        ]  # fmt: skip
        last = firms[-1][0]


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    codes = _country_codes()
    if sqlite:
        mark = "?"
        db.execute_sql("DELETE FROM search_index WHERE rowid % 8 IN (1, 2)")
        head, row_mark = "INSERT INTO search_index (rowid, body) VALUES ", "(?, ?)"
    else:
        mark = "%s"
        db.execute_sql("DELETE FROM search_index WHERE mod(rowid, 8) IN (1, 2)")
        head = "INSERT INTO search_index (rowid, body, tsv) VALUES "
        row_mark = "(%s, %s, to_tsvector('simple', %s))"
    for pages in (_contact_entries(db, codes, mark), _company_entries(db, codes, mark)):
        for entries in pages:
            if not sqlite:
                entries = [(r, text, " ".join(_PG_WORD.findall(text))) for r, text in entries]
            for start in range(0, len(entries), CHUNK):
                chunk = entries[start : start + CHUNK]
                db.execute_sql(
                    head + ", ".join([row_mark] * len(chunk)), [v for row in chunk for v in row]
                )
    if sqlite:
        # Rewritten in place, the index is left in many segments that every query merges
        # (search 3-4x slower at 100k contacts); merged into one, it is as fast as new.
        db.execute_sql("INSERT INTO search_index (search_index) VALUES ('optimize')")
    else:
        db.execute_sql("ANALYZE search_index")  # every entry of two kinds is new
