"""read_cards on anything at all: random bytes, random text, random lines inside a card. It may
refuse the input (crmcli.errors.Invalid) or read records from it, and never raises anything else;
whatever write_cards writes from random records reads back."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.errors import Invalid
from crmcli.services.vcard import read_cards, write_cards

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_all(data: bytes) -> list:
    try:
        found = list(read_cards(data))
    except Invalid:
        return []
    for where, record, warnings in found:
        assert where.startswith("card ")
        assert isinstance(record["name"], str)
        assert all(isinstance(w, str) for w in warnings)
    return found


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    read_all(data)


@FUZZ
@given(st.text(max_size=1000))
def test_random_text(text):
    read_all(text.encode("utf-8"))


PROPERTY = st.sampled_from(
    ["FN", "N", "ORG", "EMAIL", "TEL", "ADR", "BDAY", "NOTE", "CATEGORIES", "URL", "PHOTO",
     "item1.EMAIL", "item1.X-ABLabel", "TITLE", "AGENT", "BEGIN", "END", "VERSION", "",
     "ADDRESS", "TEXT", "RECORD", "DONE", "X-ANDROID-CUSTOM"]
)  # fmt: skip
PARAMS = st.sampled_from(
    ["", ";TYPE=WORK", ";HOME;VOICE", ';TYPE="voice,work";PREF=1', ";CHARSET=UTF-8",
     ";ENCODING=QUOTED-PRINTABLE", ";ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1",
     ";ENCODING=b", ";ENCODING=BASE64", ";CHARSET=nonsense;ENCODING=QUOTED-PRINTABLE", ";PREF=x",
     ";X-APPLE-OMIT-YEAR=1604", ";VALUE=uri"]
)  # fmt: skip
LINE = st.builds(
    lambda name, params, value, sep: f"{name}{params}{sep}{value}",
    PROPERTY,
    PARAMS,
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=60),
    st.sampled_from([":", ";", " ", ""]),
)


@FUZZ
@given(
    st.lists(LINE, max_size=15),
    st.sampled_from(["2.1", "3.0", "4.0", "9"]),
    st.sampled_from(["\r\n", "\n"]),
    st.sampled_from(["utf-8", "cp1252"]),
)
def test_random_lines_inside_a_card(lines, version, newline, encoding):
    text = newline.join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])
    read_all(text.encode(encoding, "replace"))


KIND = st.sampled_from(["work", "home", "mobile", "other"])
TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40).map(str.strip)


@FUZZ
@given(
    name=TEXT.filter(bool),
    company=TEXT,
    notes=st.text(st.characters(blacklist_categories=["Cs"]), max_size=200),
    tags=st.lists(TEXT.filter(bool), max_size=4),
    version=st.sampled_from(["3.0", "4.0"]),
)
def test_random_records_are_written_so_that_they_read_back(name, company, notes, tags, version):
    record = {"id": 1, "name": name, "company": company, "notes": notes, "tags": tags}
    out = io.StringIO(newline="")
    write_cards([record], out, version=version)
    ((_, back, _),) = read_cards(out.getvalue().encode("utf-8"))
    assert back["name"] == " ".join(name.split()) or (not name.split() and back["name"])
    if company.split() and name.casefold() != company.casefold():
        assert back["company"] == " ".join(company.split())


PLAIN = st.from_regex(
    r"\A[A-Za-z0-9_%+-]{1,12}(\.[A-Za-z0-9_%+-]{1,5})?@([A-Za-z0-9-]{1,8}\.){1,3}[A-Za-z]{2,6}\Z"
)


@FUZZ
@given(st.one_of(PLAIN, st.emails(), st.text(max_size=40)))
def test_the_fast_email_check_agrees_with_email_validator(text):
    from crmcli.services.vcard import _checked_email
    from crmcli.values import parse_email

    try:
        expected = parse_email(text)
    except Invalid:
        expected = None
    try:
        found = _checked_email(text)
    except Invalid:
        found = None
    assert found == expected
