"""Forms about a contact: a new one, an edit, an activity to log, tags on and off, and an
inquiry, complaint or return resolved."""

from __future__ import annotations

from typing import Any

from crmcli.models import CONTACT_STATUSES
from crmcli.tui.widgets.form import Field, FormDialog


def _email(text: str) -> str:
    from crmcli.values import parse_email

    return parse_email(text.strip())


def _phone(text: str) -> str:
    """The number as typed, once it reads as a phone number: the service keeps it so and
    adds its E.164 form, as `crm add contact --phone` does."""
    from crmcli.values import parse_phone

    parse_phone(text)
    return " ".join(text.split())


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


def _text(value) -> str:
    """A stored value as the form shows it for editing."""
    from crmcli.output import display

    return display(value, newlines=True)


class EditContactForm(FormDialog):
    """The contact's fields as `crm edit` changes them: only what was changed is sent, an
    emptied field is cleared; an email or phone replaces the primary (`work:` in front
    gives its kind). Gives back the contact's id."""

    heading = "Edit contact"
    TEXTS = ("position", "street", "zip", "city", "country", "source", "owner")

    def __init__(self, card: dict) -> None:
        super().__init__()
        self.card = card
        self.heading = f"Edit {card['name']}"

    def fields(self) -> list[Field]:
        card = self.card
        now = self.crm.now()

        def birthday(text: str):
            from crmcli.values import parse_birthday

            return parse_birthday(text, now)

        def cadence(text: str) -> int:
            from crmcli.values import parse_cadence

            return parse_cadence(text)

        def kinded(field: str, parse):
            def read(text: str) -> dict:
                from crmcli.values import parse_kinded

                kind, value = parse_kinded(text, field=field)
                return {field: parse(value), "kind": kind}

            return read

        from crmcli.values import describe_cadence

        return [
            Field("name", "Name", _text(card["name"]), required=True),
            Field("email", "Email (primary)", _text(card["email"]), kinded("email", _email)),
            Field("phone", "Phone (primary)", _text(card["phone"]), kinded("phone", _phone)),
            Field("company", "Company", _text(card["company"]),
                  placeholder="an existing one, or a new name"),
            Field("position", "Position", _text(card["position"])),
            Field("street", "Street", _text(card["street"])),
            Field("zip", "Zip", _text(card["zip"])),
            Field("city", "City", _text(card["city"])),
            Field("country", "Country", _text(card["country"])),
            Field("birthday", "Birthday", _text(card["birthday"]), birthday,
                  placeholder="24.12.1968 or 24.12."),
            Field("status", "Status", card["status"] or "lead", required=True,
                  options=[(s, s) for s in CONTACT_STATUSES]),
            Field("source", "Source", _text(card["source"])),
            Field("owner", "Owner", _text(card["owner"])),
            Field("cadence_days", "Stay in touch", describe_cadence(card["cadence_days"]) or "",
                  cadence, placeholder="30 days, monthly, quarterly"),
            Field("notes", "Notes", _text(card["notes"]), multiline=True),
        ]  # fmt: skip

    def changes(self, values: dict[str, Any]) -> dict:
        """The fields whose text the user changed (an emptied one clears it)."""
        out: dict = {}
        for name, f in self._fields.items():
            if self.text_of(name).strip() == f.value.strip():
                continue
            value = values[name]
            out[name] = "" if value is None and name in (*self.TEXTS, "notes") else value
        return out

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import contacts

        changes = self.changes(values)
        if not changes:
            self.notify("nothing changed")
            return self.card["id"]
        card = await self.call(contacts.edit_contact, self.card["id"], changes, now=self.crm.now())
        if card.get("company_created"):
            self.notify(f"Added the company {card['company']}")
        self.notify(f"Updated {card['name']}")
        return card["id"]


ACTIVITY_KINDS_SHOWN = (
    "call", "email", "meeting", "note", "letter", "inquiry", "complaint", "return", "review",
    "survey",
)  # fmt: skip


class LogActivityForm(FormDialog):
    """A call, email, meeting ... on the contact's timeline (`crm log`); gives back its id."""

    heading = "Log an activity"

    def __init__(self, contact_id: int, name: str = "") -> None:
        super().__init__()
        self.contact_id = contact_id
        if name:
            self.heading = f"Log an activity with {name}"

    def fields(self) -> list[Field]:
        from crmcli.models import ACTIVITY_KINDS

        now = self.crm.now()

        def when(text: str):
            from crmcli.services.activities import check_occurred_at
            from crmcli.values import parse_when

            # It happened: fri is last Friday, and a moment still to come is refused.
            return check_occurred_at(parse_when(text, now, field="when", prefer="past"), now)

        def duration(text: str) -> int:
            from crmcli.values import parse_duration

            return parse_duration(text)

        kinds = [k for k in ACTIVITY_KINDS_SHOWN if k in ACTIVITY_KINDS]
        kinds += [k for k in ACTIVITY_KINDS if k not in kinds]
        return [
            Field("kind", "Kind", "call", required=True, options=[(k, k) for k in kinds]),
            Field("subject", "Subject"),
            Field("body", "Text", multiline=True),
            Field("when", "When", parse=when, placeholder="now (or: 14:30, gestern 9:00, 20.11.)"),
            Field("direction", "Direction",
                  options=[("out (we called)", "out"), ("in (they called)", "in")]),
            Field("duration_min", "Duration", parse=duration, placeholder="15m, 1h30m, 1:30"),
            Field("outcome", "Outcome"),
        ]  # fmt: skip

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import activities

        given = {
            k: values[k]
            for k in ("subject", "body", "direction", "duration_min", "outcome")
            if values[k] not in (None, "")
        }
        card = await self.call(
            activities.log_activity, values["kind"], contact_id=self.contact_id,
            occurred_at=values["when"], now=self.crm.now(), **given,
        )  # fmt: skip
        self.notify(f"Logged {card['kind']} #{card['id']}")
        return card["id"]


def _tag(text: str) -> list[str]:
    from crmcli.services.tags import clean_tag

    return [clean_tag(part) for part in text.split(",") if part.strip()]


class TagForm(FormDialog):
    """Tags to add to a contact (comma between several); gives back the contact's id."""

    heading = "Add tags"

    def __init__(self, contact_id: int, carried: list[str]) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.carried = carried

    def fields(self) -> list[Field]:
        has = f" (has {', '.join(self.carried)})" if self.carried else ""
        return [Field("tags", "Add tags", parse=_tag, required=True,
                      placeholder=f"vip, newsletter{has}")]  # fmt: skip

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import contacts

        card = await self.call(contacts.tag_contact, self.contact_id, values["tags"])
        self.notify(f"Tagged {card['name']}: {', '.join(values['tags'])}")
        return card["id"]


class UntagForm(FormDialog):
    """One of the contact's tags to take off; gives back the contact's id."""

    heading = "Remove a tag"

    def __init__(self, contact_id: int, carried: list[str]) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.carried = carried

    def fields(self) -> list[Field]:
        first = self.carried[0] if len(self.carried) == 1 else ""
        return [Field("tag", "Tag", first, required=True, options=[(t, t) for t in self.carried])]

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import contacts

        card = await self.call(contacts.tag_contact, self.contact_id, [values["tag"]], remove=True)
        self.notify(f"Removed the tag {values['tag']} from {card['name']}")
        return card["id"]


class ResolveForm(FormDialog):
    """Mark an open inquiry, complaint or return as resolved (`crm resolve`), with how."""

    heading = "Resolve"

    def __init__(self, activity: dict) -> None:
        super().__init__()
        self.activity = activity
        self.heading = f"Resolve {activity['kind']} #{activity['id']}"

    def fields(self) -> list[Field]:
        return [Field("note", "Resolution", placeholder="how: Ersatz geliefert")]

    async def save(self, values: dict[str, Any]) -> int:
        from crmcli.services import activities
        from crmcli.services.users import acting_user

        card = await self.call(
            activities.resolve_activity, self.activity["id"], note=values["note"],
            by=acting_user(), now=self.crm.now(),
        )  # fmt: skip
        self.notify(f"Resolved {card['kind']} #{card['id']}")
        return card["id"]
