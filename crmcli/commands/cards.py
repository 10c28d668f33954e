"""How contacts and companies are shown: card fields and list columns, defined once."""

from __future__ import annotations

from datetime import date

from crmcli.output import Column, Format, Section, render_record

# The machine field set of each kind: the CSV header (the same with rows or without) and the
# keys of every JSON object, in order. tests/cli/test_fields.py holds them to the services.
CONTACT_KEYS = (
    "id", "name", "email", "phone", "phone_e164", "company_id", "company", "position",
    "street", "zip", "city", "country", "birthday", "status", "source", "owner", "campaign",
    "keyword", "notes", "consent", "consent_at", "cadence_days", "cadence_effective_days",
    "contact_due_at", "last_activity_at", "tags", "fields", "created_at", "updated_at",
)  # fmt: skip
CONTACT_CARD_KEYS = (
    *CONTACT_KEYS, "emails", "phones", "timeline", "timeline_total",
    "last_activity", "open_tasks", "open_issues", "deals", "orders", "profile", "consents",
)  # fmt: skip
COMPANY_BASE_KEYS = (
    "id", "name", "domain", "industry", "phone", "phone_e164", "email", "street", "zip",
    "city", "country", "notes", "created_at", "updated_at",
)  # fmt: skip
COMPANY_KEYS = (*COMPANY_BASE_KEYS, "contacts", "tags")
COMPANY_CARD_KEYS = (*COMPANY_BASE_KEYS, "tags", "contacts", "timeline", "deals")
TAG_KEYS = ("id", "name", "contacts", "companies", "cadence_days", "created_at")
ACTIVITY_KEYS = (
    "id", "kind", "occurred_at", "contact_id", "contact", "company_id", "company", "direction",
    "subject", "body", "duration_min", "outcome", "rating", "score", "status", "resolved_at",
    "resolved_by", "resolution", "owner", "deal_id", "order_id", "order_number", "created_at",
    "updated_at",
)  # fmt: skip
OPEN_ACTIVITY_KEYS = (*ACTIVITY_KEYS, "age_days")
TASK_KEYS = (
    "id", "title", "contact_id", "contact", "due_at", "due_has_time", "snoozed_until",
    "effective_due", "rrule", "priority", "note", "done", "done_at", "overdue", "previous_id",
    "deal_id", "created_at", "updated_at",
)  # fmt: skip
DEAL_KEYS = (
    "id", "title", "stage_id", "stage", "probability", "status", "amount", "currency",
    "contact_id", "contact", "company_id", "company", "expected_close", "owner", "source",
    "lost_reason", "closed_at", "created_at", "updated_at",
)  # fmt: skip
DEAL_CARD_KEYS = (*DEAL_KEYS, "campaign", "keyword", "history", "timeline")
# The keys scripts relied on first (kind ... city), then the data the detail is worded from.
SEARCH_KEYS = (
    "kind", "id", "name", "detail", "contact_id", "email", "company", "city",
    "contact", "domain", "activity", "at", "summary", "stage", "amount", "currency",
)  # fmt: skip

CONTACT_FIELDS = (
    ("id", "Id"), ("email", "Email"), ("phone", "Phone"), ("phone_e164", "E.164"),
    ("company", "Company"), ("position", "Position"), ("street", "Street"), ("zip", "Zip"),
    ("city", "City"), ("country", "Country"), ("birthday", "Birthday"), ("status", "Status"),
    ("source", "Source"), ("campaign", "Campaign"), ("keyword", "Keyword"), ("owner", "Owner"),
    ("tags", "Tags"), ("consent", "Consent"),
    ("consent_at", "Consent since"), ("cadence", "Stay in touch"),
    ("last_interaction", "Last contact"), ("buys", "Buys"),
    ("notes", "Notes"), ("created_at", "Created"), ("updated_at", "Updated"),
)  # fmt: skip
# On a narrow terminal free text shrinks first, then columns go, highest `drop` first; money,
# dates, ids and emails (`keep`) are never cut (see output.Column).
CONTACT_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name", min_width=22),
    Column("company", "Company", max_width=30, drop=2, min_width=12),
    Column("email", "Email", keep=True), Column("phone", "Phone", keep=True, drop=3),
    Column("city", "City", drop=4, min_width=8), Column("status", "Status", drop=5),
    Column("tags", "Tags", max_width=30, drop=6, min_width=8),
)  # fmt: skip
# The state and its confirmation are one column: what a mailing will do stays in sight at 80.
CONSENT_COLUMNS = (
    Column("purpose", "Purpose"), Column("state", "State", keep=True),
    Column("since", "Since", keep=True), Column("source", "Source", drop=3, max_width=24),
    Column("version", "Version", drop=2),
)  # fmt: skip
COMPANY_FIELDS = (
    ("id", "Id"), ("domain", "Domain"), ("industry", "Industry"), ("phone", "Phone"),
    ("email", "Email"), ("street", "Street"), ("zip", "Zip"), ("city", "City"),
    ("country", "Country"), ("tags", "Tags"), ("notes", "Notes"), ("created_at", "Created"),
    ("updated_at", "Updated"),
)  # fmt: skip
COMPANY_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name", min_width=22),
    Column("industry", "Industry", drop=4, min_width=8), Column("city", "City", drop=2),
    Column("domain", "Domain", keep=True, drop=3), Column("contacts", "People", "right"),
    Column("tags", "Tags", max_width=30, drop=6, min_width=8),
)  # fmt: skip
PEOPLE_COLUMNS = (
    Column("id", "Id", "right"), Column("name", "Name", min_width=22),
    Column("position", "Position", drop=3, min_width=10), Column("email", "Email", keep=True),
    Column("phone", "Phone", keep=True, drop=2), Column("status", "Status", drop=4),
)  # fmt: skip
FIELD_COLUMNS = (Column("key", "Field"), Column("value", "Value"))
ACTIVITY_FIELDS = (
    ("id", "Id"), ("kind", "Kind"), ("occurred_at", "When"), ("contact", "Contact"),
    ("company", "Company"), ("direction", "Direction"), ("subject", "Subject"), ("body", "Text"),
    ("duration", "Duration"), ("outcome", "Outcome"), ("rating", "Rating"), ("score", "Score"),
    ("status", "Status"), ("resolved_at", "Resolved"), ("resolved_by", "Resolved by"),
    ("resolution", "Resolution"), ("owner", "Owner"), ("created_at", "Created"),
)  # fmt: skip
ACTIVITY_COLUMNS = (
    Column("id", "Id", "right"), Column("occurred_at", "When", keep=True),
    Column("kind", "Kind", keep=True), Column("direction", "Dir", drop=5),
    Column("who", "Contact", max_width=28, drop=3, min_width=16),
    Column("summary", "Subject / text", max_width=60, min_width=24),
    Column("status", "Status", drop=4),
)  # fmt: skip
OPEN_COLUMNS = (
    Column("id", "Id", "right"), Column("occurred_at", "Since", keep=True),
    Column("age_days", "Days", "right"), Column("kind", "Kind", keep=True),
    Column("who", "Contact", max_width=28, drop=3, min_width=16),
    Column("summary", "Subject / text", max_width=60, min_width=24),
)  # fmt: skip
TIMELINE_COLUMNS = (
    Column("id", "Id", "right"), Column("occurred_at", "When", keep=True),
    Column("kind", "Kind", keep=True), Column("direction", "Dir", drop=3),
    Column("summary", "Subject / text", max_width=70, min_width=24),
    Column("status", "Status", drop=2),
)  # fmt: skip
TASK_FIELDS = (
    ("id", "Id"), ("due", "Due"), ("snoozed_until", "Snoozed until"), ("repeat", "Repeats"),
    ("priority", "Priority"), ("contact", "Contact"), ("deal", "Deal"), ("note", "Note"),
    ("done_at", "Done"), ("created_at", "Created"),
)  # fmt: skip
TASK_COLUMNS = (
    Column("id", "Id", "right"), Column("due", "Due", keep=True),
    # On a terminal the row's colour already says overdue and today: the flag and the
    # priority go first when the title or the contact would be cut.
    Column("flag", "!", keep=True, drop=7),
    Column("title", "Task", max_width=50, min_width=28),
    Column("contact", "Contact", max_width=28, drop=3, min_width=18),
    Column("priority", "Priority", drop=5), Column("repeat", "Repeats", drop=6, min_width=8),
)  # fmt: skip


def activity_view(activity: dict) -> dict:
    """An activity as a table row: the service's view plus its duration in words (JSON keeps
    the plain record)."""
    from crmcli.services.views import activity_view as view
    from crmcli.values import format_duration

    return {**view(activity), "duration": format_duration(activity["duration_min"])}


def task_view(task: dict, day: date | None = None) -> dict:
    """A task as a table row: due as a person reads it, its state as a flag, the rule in words;
    overdue rows red and today's highlighted on a terminal. `day`: the command's local date
    (common.today()), given when many rows share it."""
    from crmcli.commands.common import today
    from crmcli.output import ROW_STYLE, display, display_date
    from crmcli.services.views import task_view as view
    from crmcli.values import describe_every

    row = view(task, day or today())
    due = row["due"]
    shown = "" if due is None else display_date(due) if row["due_is_day"] else display(due)
    snoozed = task.get("snoozed_until")
    if snoozed is not None:  # a task due on a day is snoozed to a day: no 00:00
        snoozed = display_date(snoozed) if row["due_is_day"] else display(snoozed)
    return {
        **row, "due": shown, "snoozed_until": snoozed, "flag": row["state"],
        "repeat": describe_every(task["rrule"]) if task["rrule"] else "",
        ROW_STYLE: STATE_STYLES.get(row["state"]),
    }  # fmt: skip


# How a task's (and a reminder's) state looks on a terminal.
STATE_STYLES = {"overdue": "red", "today": "bold yellow", "done": "dim"}


def print_activity(card: dict, fmt: Format) -> None:
    render_record(
        card,
        ACTIVITY_FIELDS,
        fmt,
        title=f"{card['kind']} #{card['id']}",
        display_record=activity_view(card),
        record_fields=ACTIVITY_KEYS,
    )


def print_task(card: dict, fmt: Format) -> None:
    """The task card; its deal shown by title on a terminal (the record keeps deal_id, all
    that JSON and CSV print: the deal is not looked up for them)."""
    from crmcli.commands.common import STREAMED

    shown = task_view(card)
    if card.get("deal_id") is not None and Format(fmt) not in STREAMED:
        from crmcli.services import deals

        shown["deal"] = f"{deals.get_deal(card['deal_id'])['title']} (#{card['deal_id']})"
    render_record(
        card, TASK_FIELDS, fmt, title=card["title"], display_record=shown,
        record_fields=TASK_KEYS,
    )  # fmt: skip


def _cadence(card: dict) -> str:
    """`every 30 days (a tag's), next 2026-12-01 09:00`: the cadence that applies, where it
    comes from and when the contact is due for a call by it."""
    from crmcli.output import display
    from crmcli.values import describe_cadence

    days = card.get("cadence_effective_days")
    if not days:
        return ""
    text = describe_cadence(days)
    if days != card.get("cadence_days"):
        text += " (a tag's)"
    if card.get("contact_due_at"):
        text += f", next {display(card['contact_due_at'])}"
    return text


def addresses_text(items: list[dict], key: str) -> str:
    """A contact's emails or phones for its card, one a line with its kind, the primary
    marked: `jm@firma.de (work, primary)`. One alone of kind other is shown bare, as
    before a contact could have more."""
    if len(items) == 1 and items[0]["kind"] == "other":
        lines = [items[0][key]]
    else:
        lines = [
            f"{i[key]} ({i['kind']}{', primary' if i['primary'] and len(items) > 1 else ''})"
            for i in items
        ]
    if key == "phone":  # each number's E.164 beside it, aligned, where it is not as typed
        e164 = [_e164_shown(i) for i in items]
        # Aligned, but a very long number typed does not push the others off an 80-column line.
        width = min(max((len(line) for line in lines), default=0), 34)
        lines = [
            f"{line:<{width}}   E.164: {e}" if e else line
            for line, e in zip(lines, e164, strict=True)
        ]
    return "\n".join(lines)


def _e164_shown(phone: dict) -> str:
    """A phone's E.164 number for its card line, "" when it reads as typed (+49301234567)
    or is unknown (a number stored before it was checked)."""
    e164 = phone.get("e164") or ""
    typed = "".join(ch for ch in phone["phone"] if ch.isdigit() or ch == "+")
    return "" if typed == e164 else e164


def consent_state(row: dict) -> str:
    """A purpose's consent as a mailing sees it, with the confirmation's time when it has one
    (`granted, confirmed 3.11.2026 10:00`)."""
    from crmcli.output import display
    from crmcli.services.consent import mailing_words

    words = mailing_words(row)
    return f"{words} {display(row['confirmed_at'])}" if row["confirmed_at"] else words


def print_contact(card: dict, fmt: Format) -> None:
    """The contact card: fields, custom fields, open tasks and the timeline (newest first)."""
    from crmcli.output import display

    fields = [{"key": k, "value": v} for k, v in card["fields"].items()]
    view = dict(card, cadence=_cadence(card))
    if "emails" in card:
        view["email"] = addresses_text(card["emails"], "email")
        view["phone"] = addresses_text(card["phones"], "phone")
        view["phone_e164"] = None  # beside each phone now, not the primary's alone
    if card.get("profile"):
        from crmcli.commands.orders import profile_line

        view["buys"] = profile_line(card["profile"])
    last = card.get("last_activity")
    if last:
        view["last_interaction"] = f"{display(last['occurred_at'])} ({last['kind']})"
    sections = [Section("Custom fields", fields, FIELD_COLUMNS)]
    if "open_tasks" in card:
        sections.append(
            Section("Open tasks", [task_view(t) for t in card["open_tasks"]], TASK_COLUMNS)
        )
    if "consents" in card:
        from crmcli.services.consent import NEWSLETTER

        newsletter = [c for c in card["consents"] if c["purpose"] == NEWSLETTER]
        view["consent"] = consent_state(newsletter[0]) if newsletter else "none"
    if card.get("consents"):
        rows = [dict(c, state=consent_state(c)) for c in card["consents"]]
        sections.append(Section("Consent to mailings", rows, CONSENT_COLUMNS))
    sections += deals_section(card)
    from crmcli.commands.orders import orders_section

    sections += orders_section(card)
    if "timeline" in card:
        shown = len(card["timeline"])
        more = card.get("timeline_total", shown) - shown
        title = (
            f"Timeline ({shown} of {shown + more}, --limit for more)" if more > 0 else "Timeline"
        )
        from crmcli.commands.orders import with_orders

        rows = with_orders(
            [activity_view(a) for a in card["timeline"]], card.get("orders", []),
            complete=more <= 0,
        )  # fmt: skip
        sections.append(Section(title, rows, TIMELINE_COLUMNS))
    render_record(
        card, CONTACT_FIELDS, fmt, title=card["name"], sections=sections, display_record=view,
        record_fields=CONTACT_CARD_KEYS,
    )  # fmt: skip


def print_company(card: dict, fmt: Format) -> None:
    sections = [Section(f"People ({len(card['contacts'])})", card["contacts"], PEOPLE_COLUMNS)]
    sections += deals_section(card)
    if "timeline" in card:
        sections.append(
            Section("Timeline", [activity_view(a) for a in card["timeline"]], TIMELINE_COLUMNS)
        )
    render_record(
        card, COMPANY_FIELDS, fmt, title=card["name"], sections=sections,
        record_fields=COMPANY_CARD_KEYS,
    )  # fmt: skip


DEAL_FIELDS = (
    ("id", "Id"), ("stage", "Stage"), ("status", "Status"), ("amount_display", "Amount"),
    ("probability_display", "Probability"), ("contact", "Contact"), ("company", "Company"),
    ("expected_close", "Expected close"), ("owner", "Owner"), ("source", "Source"),
    ("campaign", "Campaign"), ("keyword", "Keyword"), ("lost_reason", "Lost because"),
    ("closed_at", "Closed"), ("created_at", "Created"),
    ("updated_at", "Updated"),
)  # fmt: skip
DEAL_COLUMNS = (
    Column("id", "Id", "right"), Column("title", "Deal", max_width=40, min_width=24),
    Column("stage", "Stage", min_width=8, drop=2), Column("amount_display", "Amount", "right"),
    Column("expected_close", "Close", keep=True),
    Column("contact", "Contact", max_width=28, drop=4, min_width=16),
    Column("company", "Company", max_width=28, drop=5, min_width=16),
    Column("owner", "Owner", drop=6, min_width=12),
)  # fmt: skip
CARD_DEAL_COLUMNS = (
    Column("id", "Id", "right"), Column("title", "Deal", max_width=40, min_width=20),
    Column("stage", "Stage", min_width=8), Column("amount_display", "Amount", "right"),
    Column("expected_close", "Close", keep=True),
)  # fmt: skip
HISTORY_COLUMNS = (
    Column("changed_at", "When", keep=True), Column("from_stage", "From"),
    Column("to_stage", "To"), Column("changed_by", "By", drop=2),
)  # fmt: skip


def deal_view(deal: dict) -> dict:
    """A deal with the display-only keys tables use (JSON keeps the plain record)."""
    from crmcli.output import money

    return {
        **deal,
        "amount_display": money(deal.get("amount"), deal["currency"]),
        "probability_display": f"{deal['probability']} %",
    }


def deals_section(card: dict) -> list[Section]:
    if not card.get("deals"):
        return []
    return [Section("Deals", [deal_view(d) for d in card["deals"]], CARD_DEAL_COLUMNS)]


def print_deal(card: dict, fmt: Format) -> None:
    """The deal card: fields, the stage history (oldest first) and its activities."""
    sections = [Section("Stage history", card.get("history", []), HISTORY_COLUMNS)]
    if card.get("timeline"):
        sections.append(
            Section("Timeline", [activity_view(a) for a in card["timeline"]], TIMELINE_COLUMNS)
        )
    render_record(
        card, DEAL_FIELDS, fmt, title=card["title"], sections=sections,
        display_record=deal_view(card), record_fields=DEAL_CARD_KEYS,
    )  # fmt: skip
