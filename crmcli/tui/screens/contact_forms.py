"""Forms about a contact: a new contact (more to come: edit, log an activity, tags)."""

from __future__ import annotations

from typing import Any

from crmcli.models import CONTACT_STATUSES
from crmcli.tui.widgets.form import Field, FormDialog


def _email(text: str) -> str:
    from crmcli.values import parse_email

    return parse_email(text.strip())


def _phone(text: str) -> str:
    from crmcli.values import parse_phone

    return parse_phone(text)


class NewContactForm(FormDialog):
    """Gives back the new contact's id."""

    heading = "New contact"

    def fields(self) -> list[Field]:
        return [
            Field("name", "Name", required=True, placeholder="Jürgen Müller"),
            Field("email", "Email", parse=_email, placeholder="jm@mueller-bau.de"),
            Field("phone", "Phone", parse=_phone, placeholder="0171 2345678"),
            Field("company", "Company", placeholder="an existing one, or a new name"),
            Field("city", "City"),
            Field("status", "Status", value="lead", options=[(s, s) for s in CONTACT_STATUSES]),
        ]

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import contacts

        given = {k: v for k, v in values.items() if v not in (None, "") and k != "name"}
        card = await self.call(contacts.add_contact, values["name"], now=self.crm.now(), **given)
        self.notify(f"Added {card['name']} (#{card['id']})")
        return card["id"]
