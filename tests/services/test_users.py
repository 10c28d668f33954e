"""services.users.acting_user: the name histories record, the same for every front end."""

from __future__ import annotations

import getpass

from crmcli.services.users import acting_user


def test_crm_user_wins_over_the_login_name(monkeypatch):
    monkeypatch.setenv("CRM_USER", "Anna Schmidt")
    assert acting_user() == "Anna Schmidt"


def test_the_login_name_without_crm_user(monkeypatch):
    monkeypatch.delenv("CRM_USER", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "anna")
    assert acting_user() == "anna"


def test_no_name_at_all_is_none_not_an_error(monkeypatch):
    """A container user without a passwd entry: getpass raises; the history says nobody."""

    def unknown():
        raise OSError("no such user")

    monkeypatch.delenv("CRM_USER", raising=False)
    monkeypatch.setattr(getpass, "getuser", unknown)
    assert acting_user() is None


def test_resolve_records_the_acting_user(crm, monkeypatch):
    crm("add", "contact", "Erika Muster")
    logged = crm("log", "complaint", "erika", "-m", "Gerät defekt", "-o", "json").json()
    monkeypatch.setenv("CRM_USER", "Lea Wagner")
    r = crm("resolve", str(logged["id"]), "-m", "getauscht", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["resolved_by"] == "Lea Wagner"
