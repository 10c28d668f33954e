"""`KIND:VALUE` as `crm add contact -e work:a@b.de -p 'mobil:0171 1234567'` reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcli.errors import Invalid
from crmcli.values import ADDRESS_KINDS, address_kind, parse_kinded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("work:jm@firma.de", ("work", "jm@firma.de")),
        ("Arbeit: jm@firma.de", ("work", "jm@firma.de")),
        ("geschäftlich:jm@firma.de", ("work", "jm@firma.de")),
        ("GESCHAEFTLICH:jm@firma.de", ("work", "jm@firma.de")),
        ("dienstlich:jm@firma.de", ("work", "jm@firma.de")),
        ("privat:jm@example.com", ("home", "jm@example.com")),
        ("home:jm@example.com", ("home", "jm@example.com")),
        ("mobil:0171 1234567", ("mobile", "0171 1234567")),
        ("Handy: +49 171 1234567", ("mobile", "+49 171 1234567")),
        ("mobile:0171 1234567", ("mobile", "0171 1234567")),
        ("sonstige:x@y.de", ("other", "x@y.de")),
        ("andere:x@y.de", ("other", "x@y.de")),
        ("other:x@y.de", ("other", "x@y.de")),
        ("  jm@firma.de ", (None, "jm@firma.de")),
        ("030 1234567", (None, "030 1234567")),
        ("+49 (0)30 1234567", (None, "+49 (0)30 1234567")),
        ("mailto:jm@firma.de", (None, "jm@firma.de")),
        ("tel:+4930123456", (None, "+4930123456")),
    ],
)
def test_parse_kinded(text, expected):
    assert parse_kinded(text) == expected


def test_an_unknown_kind_is_refused_naming_the_choices():
    with pytest.raises(Invalid, match="unknown kind 'fax'.*work, home, mobile, other"):
        parse_kinded("fax:030 1234567", field="phone")


def test_every_kind_names_itself():
    for kind in ADDRESS_KINDS:
        assert address_kind(kind.upper()) == kind


@given(st.text(max_size=60))
def test_parse_kinded_never_fails_otherwise(text):
    try:
        kind, value = parse_kinded(text)
    except Invalid:
        return
    assert kind is None or kind in ADDRESS_KINDS
    assert value == value.strip()
