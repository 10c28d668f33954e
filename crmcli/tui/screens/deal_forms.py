"""Forms about a deal: a new deal, editing one, and the reason it was lost (required).
Amounts as `1.234,50`, dates as `24.12.2026`, `31.12.` or `+30d`, checked as typed with the
CLI's parsers; contact and company as a REF (id or part of the name), as `crm add deal -C`."""

from __future__ import annotations

from typing import Any

from crmcli.tui.widgets.board import date_text
from crmcli.tui.widgets.form import Field, FormDialog


def _cents(text: str) -> int:
    from crmcli.values import parse_money_cents

    return parse_money_cents(text.strip())


def _amount_text(card: dict) -> str:
    """The amount as it is typed back (`1.234,50`, no currency sign)."""
    from crmcli.values import format_money

    if card.get("amount") is None:
        return ""
    return format_money(int(card["amount"].scaleb(2)), "EUR").removesuffix(" €")


class _Focused(FormDialog):
    """A form that starts in its first field (typing goes there at once)."""

    def on_mount(self) -> None:
        self.query("Input, Select").first().focus()


def acting_user() -> str | None:
    from crmcli.services.users import acting_user as who

    return who()


class NewDealForm(_Focused):
    """Gives back the new deal (its card as services.deals returns it)."""

    heading = "New deal"

    def __init__(self, stages: list[dict], stage_id: int | None = None) -> None:
        super().__init__()
        self.stages = stages
        self.stage_id = stage_id

    def fields(self) -> list[Field]:
        first = self.stage_id or (self.stages[0]["id"] if self.stages else None)
        return [
            Field("title", "Title", required=True, placeholder="Dachsanierung Köln"),
            Field("contact", "Contact", placeholder="name or #id (or give a company)"),
            Field("company", "Company", placeholder="default: the contact's company"),
            Field("amount", "Amount", parse=_cents, placeholder="12.500,00"),
            Field(
                "stage",
                "Stage",
                value=str(first) if first else "",
                options=[(s["name"], str(s["id"])) for s in self.stages],
                required=True,
            ),  # fmt: skip
            Field("close", "Expected close", parse=self._day, placeholder="31.12.2026, +30d"),
        ]

    def _day(self, text: str):
        from crmcli.values import parse_date

        return parse_date(text, self.crm.now(), field="close")

    async def save(self, values: dict[str, Any]) -> dict:
        from crmcli.services import companies, contacts, deals

        contact_id = company_id = None
        if values["contact"]:
            contact_id = await self.call(contacts.resolve_contact, values["contact"])
        if values["company"]:
            company_id = await self.call(companies.resolve_company, values["company"])
        card = await self.call(
            deals.add_deal, values["title"], contact_id=contact_id, company_id=company_id,
            amount_cents=values["amount"] or 0, stage=values["stage"],
            expected_close=values["close"], now=self.crm.now(), by=acting_user(),
        )  # fmt: skip
        self.notify(f"Added {card['title']} (#{card['id']}) in {card['stage']}")
        return card


class EditDealForm(_Focused):
    """Title, amount, expected close and owner; gives back the changed deal."""

    heading = "Edit deal"

    def __init__(self, card: dict) -> None:
        super().__init__()
        self.card = card

    def fields(self) -> list[Field]:
        c = self.card
        return [
            Field("title", "Title", value=c["title"], required=True),
            Field("amount", "Amount", value=_amount_text(c), parse=_cents, placeholder="12.500,00"),
            Field(
                "close",
                "Expected close",
                value=date_text(c.get("expected_close")),
                parse=self._day,
                placeholder="31.12.2026, +30d",
            ),  # fmt: skip
            Field("owner", "Owner", value=c.get("owner") or ""),
        ]

    def _day(self, text: str):
        from crmcli.values import parse_date

        return parse_date(text, self.crm.now(), field="close")

    async def save(self, values: dict[str, Any]) -> dict:
        from crmcli.services import deals

        changes = {
            "title": values["title"], "amount_cents": values["amount"] or 0,
            "expected_close": values["close"], "owner": values["owner"],
        }  # fmt: skip
        card = await self.call(deals.edit_deal, self.card["id"], changes, now=self.crm.now())
        self.notify(f"Saved {card['title']}")
        return card


class LostForm(_Focused):
    """Why the deal was lost (required: the funnel ranks the reasons); gives back the deal."""

    heading = "Lost"

    def __init__(self, deal: dict) -> None:
        super().__init__()
        self.deal = deal
        self.heading = f"Lost: {deal['title']}"

    def fields(self) -> list[Field]:
        return [Field("reason", "Reason", required=True, placeholder="Preis zu hoch")]

    async def save(self, values: dict[str, Any]) -> dict:
        from crmcli.services import deals

        card = await self.call(
            deals.lose_deal, self.deal["id"], values["reason"], now=self.crm.now(),
            by=acting_user(),
        )  # fmt: skip
        self.notify(f"Lost {card['title']}: {card['lost_reason']}")
        return card
