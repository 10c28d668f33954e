"""The contact card: who it is (every field, company, tags, custom fields, the stay-in-touch
cadence, every email and phone), and the story: the timeline newest first (a page at a time),
open tasks, deals, and the newest orders with what the contact buys. Keys log an activity,
add a task, edit, tag and untag, resolve an inquiry, complaint or return, open the company
or a deal, and delete the contact."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from crmcli.tui.screens.card_base import TabbedCard
from crmcli.tui.widgets.timeline import Timeline


def show(value) -> str:
    from crmcli.output import display

    return display(value)


def addresses(items: list[dict], key: str) -> str:
    """Every email or phone, one a line, with its kind; the primary marked."""
    from crmcli.values import format_phone

    lines = []
    for item in items:
        value = item[key]
        if key == "phone" and item.get("e164"):
            value = format_phone(item["e164"])
        marks = [item["kind"]] + (["primary"] if item["primary"] and len(items) > 1 else [])
        lines.append(f"{value} ({', '.join(marks)})")
    return "\n".join(lines)


def cadence(card: dict) -> str:
    """`every 30 days (a tag's), next 01.12.2026 09:00`."""
    from crmcli.values import describe_cadence

    days = card.get("cadence_effective_days")
    if not days:
        return ""
    text = describe_cadence(days)
    if days != card.get("cadence_days"):
        text += " (a tag's)"
    if card.get("contact_due_at"):
        text += f", next {show(card['contact_due_at'])}"
    return text


def field_grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return grid


def money(deal: dict) -> str:
    from crmcli.output import money as fmt

    return fmt(deal.get("amount"), deal.get("currency") or "EUR")


def fill_orders(table: DataTable, orders: list[dict]) -> None:
    """The card's orders, newest first: when, number, status, channel, items, net, gross."""
    from crmcli.output import money as fmt

    table.clear(columns=not table.columns)
    if not table.columns:
        table.add_columns("When", "Order", "Status", "Channel", "Items", "Net", "Gross")
    for o in orders:
        cur = o.get("currency") or "EUR"
        table.add_row(
            show(o["ordered_at"]), o.get("external_id") or f"#{o['id']}", o["status"],
            o.get("channel") or "", Text(str(o["items"]), justify="right"),
            Text(fmt(o["net"], cur), justify="right"), Text(fmt(o["gross"], cur), justify="right"),
            key=str(o["id"]),
        )  # fmt: skip


def buys(profile: dict | None) -> str:
    """What the contact buys, in a line: top categories, price range, channel, margin."""
    if not profile or not profile.get("categories"):
        return ""
    from crmcli.output import money as fmt
    from crmcli.output import percent

    tops = [f"{c['category'] or 'other'} {percent(c['share'], 0)}" for c in profile["categories"]]
    parts = [f"spent {fmt(profile['spent'])} net", ", ".join(tops[:3])]
    p = profile["price_range"]
    if p:
        parts.append(f"{fmt(p['q1'])} to {fmt(p['q3'])} a unit")
    if profile.get("margin") is not None:  # None: no purchase price known, no margin
        part = f"margin {fmt(profile['margin'])}"
        if profile.get("uncosted_lines"):
            part += f" (costs known for {profile['lines'] - profile['uncosted_lines']} of "
            part += f"{profile['lines']} lines)"
        parts.append(part)
    return " · ".join(parts)


def fill_deals(table: DataTable, deals: list[dict]) -> None:
    from crmcli.output import display_date

    table.clear(columns=not table.columns)
    if not table.columns:
        table.add_columns("Deal", "Stage", "Amount", "Close", "Status")
    for d in deals:
        table.add_row(
            d["title"], d.get("stage") or "", Text(money(d), justify="right"),
            display_date(d.get("expected_close")), d.get("status") or "", key=str(d["id"]),
        )  # fmt: skip


class ContactCard(TabbedCard):
    DEFAULT_CSS = """
    ContactCard .card-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    ContactCard #summary { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    ContactCard TabbedContent { height: 1fr; }
    ContactCard TabPane { padding: 0; }
    ContactCard #details { padding: 0 1; }
    ContactCard DataTable { height: 1fr; }
    ContactCard #buys { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", "Log"),
        Binding("t", "task", "Task"),
        Binding("e", "edit", "Edit"),
        Binding("plus", "tag", "Tag", key_display="+"),
        Binding("minus", "untag", "Untag", key_display="-"),
        Binding("r", "resolve", "Resolve"),
        Binding("c", "company", "Company"),
        Binding("space", "done", "Done", show=False),  # on the Tasks tab: tick it off
        Binding("delete", "delete", "Delete", key_display="del"),
        Binding("escape", "back", "Back", key_display="esc"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, key_display="]"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, key_display="["),
    ]

    kind = "contact"
    TABS = ("timeline", "details-pane", "tasks", "deals", "orders")

    def compose(self) -> ComposeResult:
        yield Static("Contact", classes="card-title", id="title")
        yield Static("", id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("Timeline", id="timeline"):
                yield Timeline(self._page, id="timeline-table")
            with TabPane("Details", id="details-pane"), VerticalScroll():
                yield Static("", id="details")
            with TabPane("Tasks", id="tasks"):
                yield DataTable(id="tasks-table", cursor_type="row")
            with TabPane("Deals", id="deals"):
                yield DataTable(id="deals-table", cursor_type="row")
            with TabPane("Orders", id="orders"):
                yield Static("", id="buys")
                yield DataTable(id="orders-table", cursor_type="row")
        yield Footer(compact=True, show_command_palette=False)  # ^p still opens it

    def on_mount(self) -> None:
        self.timeline.focus()
        self.seen_generation = self.crm.generation
        self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    # -- data ----------------------------------------------------------------------------

    async def read(self, timeline_limit: int) -> dict:
        from crmcli.services import contacts

        return await self.read_card(
            contacts.contact_card, self.item_id, timeline_limit=timeline_limit, now=self.crm.now()
        )

    def timeline_owner(self) -> dict[str, int]:
        return {"contact_id": self.item_id}

    def _show(self, card: dict) -> None:
        title = card["name"]
        where = " at ".join(x for x in (card["position"], card["company"]) if x)
        parts = [f"#{card['id']} {title}", where, card["status"]]
        self.query_one("#title", Static).update(" · ".join(p for p in parts if p))
        self.sub_title = title
        first = [x for x in (card["email"], card["phone"], card["city"]) if x]
        tags = ", ".join(card["tags"])
        second = []
        if tags:
            second.append(f"tags: {tags}")
        if card.get("cadence_effective_days"):
            second.append(f"stay in touch {cadence(card)}")
        if card["open_issues"]:
            second.append(f"{card['open_issues']} open (r resolves)")
        summary = "\n".join(line for line in (" · ".join(first), " · ".join(second)) if line)
        self.query_one("#summary", Static).update(summary)
        self.query_one("#details", Static).update(self._details(card))
        self.timeline.show(card["timeline"], card["timeline_total"], limit=self._limit)
        self._fill_tasks(card["open_tasks"])
        fill_deals(self.query_one("#deals-table", DataTable), card["deals"])
        fill_orders(self.query_one("#orders-table", DataTable), card.get("orders", []))
        self.query_one("#buys", Static).update(buys(card.get("profile")))
        tabs = self.query_one(TabbedContent)
        total = card["timeline_total"]
        tabs.get_tab("timeline").label = f"Timeline ({total:,})"  # type: ignore[assignment]
        tabs.get_tab("tasks").label = f"Tasks ({len(card['open_tasks'])})"  # type: ignore[assignment]
        tabs.get_tab("deals").label = f"Deals ({len(card['deals'])})"  # type: ignore[assignment]
        shown = len(card.get("orders", []))
        tabs.get_tab("orders").label = f"Orders ({shown})"  # type: ignore[assignment]

    def _details(self, card: dict) -> Table:
        from crmcli.services.consent import newsletter_words

        last = card.get("last_activity")
        rows = [
            ("Name", card["name"]),
            ("Email", addresses(card["emails"], "email")),
            ("Phone", addresses(card["phones"], "phone")),
            ("Company", show(card["company"])),
            ("Position", show(card["position"])),
            ("Street", show(card["street"])),
            ("Zip / city", " ".join(x for x in (card["zip"], card["city"]) if x)),
            ("Country", show(card["country"])),
            ("Birthday", show(card["birthday"])),
            ("Status", card["status"]),
            ("Source", show(card["source"])),
            ("Owner", show(card["owner"])),
            ("Tags", ", ".join(card["tags"])),
            ("Consent", newsletter_words(card.get("consents", []))),
            ("Stay in touch", cadence(card)),
            ("Last contact", f"{show(last['occurred_at'])} ({last['kind']})" if last else ""),
            *((key, show(value)) for key, value in card["fields"].items()),
            ("Notes", show(card["notes"]) if card["notes"] else ""),
            ("Created", show(card["created_at"])),
            ("Updated", show(card["updated_at"])),
        ]
        return field_grid(rows)

    def _fill_tasks(self, tasks: list[dict]) -> None:
        from crmcli.output import display_date
        from crmcli.services.views import task_view
        from crmcli.values import local_tz

        table = self.query_one("#tasks-table", DataTable)
        table.clear(columns=not table.columns)
        if not table.columns:
            table.add_columns("Due", "Task", "Priority")
        today = self.crm.now().astimezone(local_tz()).date()
        for task in tasks:
            row = task_view(task, today)
            due = row["due"]
            when = "" if due is None else display_date(due) if row["due_is_day"] else show(due)
            style = {"overdue": "red", "today": "bold yellow"}.get(row["state"], "")
            table.add_row(
                Text(when, style=style), Text(task["title"], style=style),
                str(task.get("priority") or ""), key=str(task["id"]),
            )  # fmt: skip

    # -- keys ----------------------------------------------------------------------------

    def action_done(self) -> None:
        """Tick off the task under the cursor of the Tasks tab (as space does on Tasks)."""
        from crmcli.tui.screens.tasks import finish

        tabs = self.query_one(TabbedContent)
        table = self.query_one("#tasks-table", DataTable)
        if tabs.active != "tasks" or not table.row_count:
            self.notify("space ticks off a task on the Tasks tab ( ] to get there)")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            self.run_worker(finish(self, int(key)), group="write")

    def _after_write(self, result) -> None:
        if result is not None:
            self.crm.wrote()

    def action_log(self) -> None:
        from crmcli.tui.screens.contact_forms import LogActivityForm

        name = self.card["name"] if self.card else ""
        self.app.push_screen(LogActivityForm(self.item_id, name), self._after_write)

    def action_task(self) -> None:
        from crmcli.tui.screens.task_forms import NewTaskForm

        self.app.push_screen(NewTaskForm(contact_id=self.item_id), self._after_write)

    def action_edit(self) -> None:
        from crmcli.tui.screens.contact_forms import EditContactForm

        if self.card is not None:
            self.app.push_screen(EditContactForm(self.card), self._after_write)

    def action_tag(self) -> None:
        from crmcli.tui.screens.contact_forms import TagForm

        if self.card is not None:
            self.app.push_screen(TagForm(self.item_id, self.card["tags"]), self._after_write)

    def action_untag(self) -> None:
        from crmcli.tui.screens.contact_forms import UntagForm

        if self.card is None:
            return
        if not self.card["tags"]:
            self.notify(f"{self.card['name']} has no tags")
            return
        self.app.push_screen(UntagForm(self.item_id, self.card["tags"]), self._after_write)

    def action_resolve(self) -> None:
        from crmcli.models import TRACKED_KINDS
        from crmcli.tui.screens.contact_forms import ResolveForm

        activity = self.timeline.current
        if activity is None or activity["kind"] not in TRACKED_KINDS:
            self.notify(
                "select an open inquiry, complaint or return in the timeline", severity="warning"
            )
            return
        if activity["status"] != "open":
            self.notify(f"{activity['kind']} #{activity['id']} is resolved already")
            return
        self.app.push_screen(ResolveForm(activity), self._after_write)

    def action_company(self) -> None:
        if self.card is None:
            return
        if self.card["company_id"] is None:
            self.notify(f"{self.card['name']} has no company")
            return
        self.crm.open_company(self.card["company_id"])

    def action_delete(self) -> None:
        from crmcli.tui.widgets.form import Confirm

        if self.card is None:
            return
        card = self.card
        from crmcli.values import plural

        total = card["timeline_total"]
        story = f" and {'its' if total > 1 else 'the'} {plural(total, 'activity')}" if total else ""
        deals = len(card["deals"])
        stay = f" Their {plural(deals, 'deal')} stay, without a contact." if deals else ""
        question = f"Delete {card['name']} with the tasks{story}?{stay} This cannot be undone."
        self.app.push_screen(Confirm(question), self._delete)

    async def delete_record(self) -> dict:
        from crmcli.services import contacts

        return await self.call(contacts.delete_contact, self.item_id)
