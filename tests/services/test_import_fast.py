"""The import's fast paths give exactly what the general code gives: fold (ASCII, a word at
a time), German phone numbers (the steps of phonenumbers.parse), plain email addresses."""

from __future__ import annotations

import random
import unicodedata

import pytest

from crmcli.errors import Invalid
from crmcli.services import imports
from crmcli.values import fold, fold_variants, parse_phone

_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe"})
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slow_fold(text: str) -> str:
    """values.fold as it was written first: the whole text through each step."""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    s = "".join(c for c in s if not unicodedata.combining(c)).translate(_LETTERS)
    return " ".join(s.split())


def slow_variants(text: str) -> str:
    plain = slow_fold(text)
    german = slow_fold(unicodedata.normalize("NFC", text).translate(_UMLAUTS))
    return plain if german == plain else f"{plain} | {german}"


ODD = "aAzZ09 .-_@ßẞäöüÄÖÜéÉøØłŁæÆœŒðđİıﬁ¨\u00a0\u2003\u3000\u0301\u0308\t\n가각ΣσςÅÅǅ①½™"


def test_fold_a_word_at_a_time_is_the_fold_of_the_whole_text():
    rnd = random.Random(16)
    for _ in range(30_000):
        if rnd.random() < 0.7:
            text = "".join(rnd.choice(ODD) for _ in range(rnd.randint(0, 12)))
        else:
            text = "".join(chr(rnd.randint(32, 0x2FFF)) for _ in range(rnd.randint(0, 8)))
        assert fold(text) == slow_fold(text), repr(text)
        assert fold_variants(text) == slow_variants(text), repr(text)


def test_whitespace_folds_to_whitespace():
    """What makes folding word by word exact: no whitespace character folds to nothing or
    to something that is not whitespace."""
    for code in range(0x110000):
        char = chr(code)
        if char.isspace():
            folded = slow_fold(f"a{char}b")
            assert folded == "a b", hex(code)


def _result(parse, text):
    try:
        return parse(text)
    except Invalid as exc:
        return ("error", str(exc))


def _phone_sample(rnd: random.Random) -> str:
    if rnd.random() < 0.4:  # the forms of crm demo and of address books
        area = rnd.choice(["030", "0171", "0176", "0151", "089", "040", "0351", "0221", "06151"])
        size = rnd.randint(2, 9)
        number = str(rnd.randint(10**size, 10 ** (size + 1) - 1))
        short = area[1:]
        forms = [f"{area} {number}", f"{area}-{number}", f"{area}/{number}",
                 f"+49 {short} {number}", f"({area}) {number}", f"+49{short}{number}"]  # fmt: skip
        return rnd.choice(forms)
    head = rnd.choice(["0", "0", "+49 ", "+49", "00", "+49 0", "0049 ", "(0", "+43 ", "+1 ", ""])
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 16)))
    if digits and rnd.random() < 0.7:
        digits = rnd.choice("123456789") + digits[1:]
    out = []
    for digit in digits:
        if rnd.random() < 0.15:
            out.append(rnd.choice([" ", "-", "/", "  ", " / ", ".", ")", "x", "#"]))
        out.append(digit)
    return head + "".join(out)


def test_german_phone_fast_path_equals_parse_phone():
    rnd = random.Random(49)
    fast = 0
    for _ in range(40_000):
        text = _phone_sample(rnd)
        expected = _result(parse_phone, text)
        assert _result(imports._phone, text) == expected, repr(text)
        fast += bool(imports._GERMAN_PHONE.fullmatch(text)) and isinstance(expected, str)
    assert fast > 10_000  # the fast path was taken, and agreed


@pytest.mark.parametrize(
    "text", ["030 1234567", "0171-2345678", "030/123456", "+49 30 1234567", "+4930123456",
             "01234", "0300", "+49 0043 90427", "0049 30 1234567", "030 12345678901234567"],
)  # fmt: skip
def test_german_phone_fast_path_edge_cases(text):
    assert _result(imports._phone, text) == _result(parse_phone, text)


def _email_sample(rnd: random.Random) -> str:
    local = rnd.choice(
        [
            "jm",
            "Jürgen.Müller",
            "info",
            "Info",
            "POSTMASTER",
            "Sales",
            "a.b-c+d",
            "o'neil",
            "x" * 64,
            "x" * 65,
            "a..b",
            ".a",
            "a.",
            '"quoted name"',
            "José",
            "Zoë",
            "Özlem.Öz",
            "Ærøskøbing",
            "x×y",
            "ǅemal",
            "ŉ",
            "ÿ" * 64,
            "ü" * 70,
            "a\u0308b",
            "ɐ",
            "Ɏ",
            "user_1",
            "UPPER.Case",
            "abuse",
            "webMaster",
            "a b",
            "",
        ]
    )
    if rnd.random() < 0.3:
        local += str(rnd.randint(0, 9999))
    domain = rnd.choice(
        [
            "example.de",
            "Example.DE",
            "MÜLLER-bau.de",
            "müller.de",
            "xn--mller-kva.de",
            "bücher.example",
            "localhost",
            "b",
            "a-.de",
            "sub.domain.co.uk",
            "ÉCOLE.fr",
            ("d" * 60 + ".") * 3 + "de",
            ("d" * 63 + ".") * 3 + "de",
            "[1.2.3.4]",
            "example.de.",
            "ex_ample.de",
            "例え.jp",
            "ドメイン.テスト",
            "x.y.z.w.example",
        ]
    )
    return f"{local}@{domain}"


def test_plain_email_fast_path_equals_parse_email():
    from crmcli.values import parse_email

    rnd = random.Random(254)
    for _ in range(20_000):
        text = _email_sample(rnd)
        assert _result(imports._email, text) == _result(parse_email, text), repr(text)


def _name_sample(rnd: random.Random) -> str:
    words = ["Jürgen", "Müller", "Weiß", "O'Neil", "van der", "Zoë", "ﬁne", "Ǆ", "Åsa", "x" * 150]
    gaps = [" ", "  ", "\t", "\u00a0", "\u2003", " \n "]
    return "".join(rnd.choice(words) + rnd.choice(gaps) for _ in range(rnd.randint(1, 4)))


def test_clean_row_makes_the_name_columns_clean_fields_makes():
    """_clean_row leaves the name out of contacts.clean_fields and makes its columns itself
    (cached fold and sound): the same columns, or the same error, as clean_fields gives."""
    from datetime import UTC, datetime

    from crmcli.services import contacts

    now = datetime(2026, 11, 30, tzinfo=UTC)
    rnd = random.Random(1066)
    for _ in range(3_000):
        rec = {"name": _name_sample(rnd), "city": rnd.choice(["Köln", " Berlin ", None])}
        if rnd.random() < 0.2:
            rec["zip"] = "1" * rnd.choice([5, 30])  # over the limit: clean_fields refuses first
        values = {k: v.strip() for k, v in rec.items() if k != "name" and v and v.strip()}
        values["name"] = rec["name"].strip()
        try:
            expected = contacts.clean_fields(values, now)
        except Invalid as exc:
            expected = ("error", str(exc))
        try:
            got = imports._clean_row("line 2", rec, now, ()).cols
        except Invalid as exc:
            got = ("error", str(exc))
        assert got == expected, repr(rec)
        if isinstance(got, dict):
            assert list(got)[-3:] == ["name", "name_key", "name_sound"]


def test_country_code_from_a_numbers_first_three_digits():
    """search._country_code looks a number's first three digits up in a cache: the code the
    plain search of one, two and three digits finds."""
    from crmcli.services import search

    codes = search._country_codes()
    rnd = random.Random(164)
    for _ in range(5_000):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 15)))
        expected = next((digits[:n] for n in (1, 2, 3) if digits[:n] in codes), None)
        assert search._country_code(digits) == expected, digits
    assert search._country_code("4930123456") == "49"


def test_fold_of_latin_text_by_one_translate_is_the_fold_of_the_whole_text():
    """values.fold translates text of ASCII and U+00C0-U+017F letters at once: the fold the
    first written steps give, also beside combining marks and other spaces (which it
    leaves to the word-at-a-time path)."""
    rnd = random.Random(0x17F)
    latin = [chr(c) for c in (*range(32, 127), *range(0xC0, 0x180))] + ["\t", "\n", "  "]
    odd = ["\u0301", "\u0308", "\u00a0", "\u2003", "ǅ", "ẞ", "İ"]
    for _ in range(30_000):
        chars = latin + odd if rnd.random() < 0.2 else latin
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(0, 14)))
        assert fold(text) == slow_fold(text), repr(text)
        assert fold_variants(text) == slow_variants(text), repr(text)
    for code in range(0xC0, 0x180):
        assert fold(f"A{chr(code)}z") == slow_fold(f"A{chr(code)}z"), hex(code)


def test_csv_rows_of_only_whitespace_are_skipped_and_duplicate_numbers_are_one():
    import io

    from crmcli.services import csvread

    data = (
        "Name;Telefon;Mobil;E-Mail\r\n"
        " ; \t ;\u00a0;\r\n"  # whitespace only (no-break space too): not a row
        "Eva;030 1234567;030/123 4567;eva@example.de\r\n"
        ";;;\r\n"
        "Otto;;0171 2222222;\r\n"
    ).encode()
    records = list(csvread.open_csv(io.BytesIO(data)).records())
    assert [(where, rec.get("name")) for where, rec in records] == [
        ("line 3", "Eva"),
        ("line 5", "Otto"),
    ]
    eva, otto = (rec for _, rec in records)
    assert [(p["phone"], p["primary"]) for p in eva["phones"]] == [("030 1234567", True)]
    assert [(p["phone"], p["primary"]) for p in otto["phones"]] == [("0171 2222222", True)]
    assert [(e["email"], e["primary"]) for e in eva["emails"]] == [("eva@example.de", True)]
