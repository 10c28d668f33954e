"""Peewee models: tables, indexes and constraints. No business rules live here."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    SQL,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTimeField(DateTimeField):
    """Stores naive UTC in the database and hands back aware UTC datetimes."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        if type(value) is datetime:  # PostgreSQL's driver hands back naive datetimes
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            # SQLite hands back text; fromisoformat reads peewee's format ~20x faster than
            # peewee's strptime loop, which matters on lists and reports of many rows. Read
            # with its offset it is aware at once: .replace(tzinfo=) would cost 8x the parse.
            try:
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:
                pass
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        else:
            value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class BaseModel(Model):
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database_proxy
        legacy_table_names = False


CONTACT_STATUSES = ("lead", "prospect", "customer", "inactive")


class Company(BaseModel):
    name = TextField()
    # fold(name): one company per folded name, so "ACME GmbH" and "Acme gmbh" are the same.
    name_fold = TextField(unique=True)
    # fold_variants(name): what name fragments are matched against (muller and mueller).
    name_key = TextField(index=True)
    domain = TextField(null=True)
    industry = TextField(null=True)
    phone = TextField(null=True)
    phone_e164 = TextField(null=True)
    email = TextField(null=True)
    street = TextField(null=True)
    zip = TextField(null=True)
    city = TextField(null=True)
    city_fold = TextField(null=True, index=True)
    country = TextField(null=True)
    notes = TextField(null=True)
    name_sound = TextField(null=True)  # values.sound_key(name, company=True); see Contact


class Contact(BaseModel):
    name = TextField()
    name_key = TextField(index=True)
    email = TextField(null=True)
    # Lower-cased email: unique, and what an email REF resolves through.
    email_key = TextField(null=True, unique=True)
    phone = TextField(null=True)
    phone_e164 = TextField(null=True, index=True)
    company = ForeignKeyField(Company, null=True, on_delete="SET NULL", backref="contacts")
    position = TextField(null=True)
    street = TextField(null=True)
    zip = TextField(null=True)
    city = TextField(null=True)
    city_fold = TextField(null=True, index=True)
    country = TextField(null=True)
    birthday = DateField(null=True)
    birthday_md = CharField(max_length=5, null=True)  # "12-24": reminders by day (see Meta)
    birthday_reminded = IntegerField(default=0)  # the year of the last birthday reminded
    status = CharField(max_length=16, default="lead", index=True)
    source = TextField(null=True, index=True)
    owner = TextField(null=True)
    notes = TextField(null=True)
    consent = BooleanField(default=False)
    consent_at = UTCDateTimeField(null=True)
    # Stay in touch: call at least every N days (a tag's cadence applies too; the shorter wins).
    cadence_days = IntegerField(null=True)
    # The newest activity's time, kept by services.activities: card header, cadence, --brief.
    last_activity_at = UTCDateTimeField(null=True, index=True)
    # Kept by services.cadence: the shorter of the own and the tags' cadence, when the contact
    # is due for a call (seconds since 1970, UTC; NULL without a cadence or when inactive),
    # and that time again until `crm remind` printed it (then NULL).
    cadence_eff = IntegerField(null=True)
    touch_due = BigIntegerField(null=True)
    touch_remind = BigIntegerField(null=True)
    # values.sound_key(name): Kölner Phonetik codes, so duplicates that sound alike meet
    # (partial index, migration 0009).
    name_sound = TextField(null=True)

    class Meta:
        indexes = (
            (("birthday_md", "birthday_reminded"), False),
            # touch_due and touch_remind have partial indexes (WHERE ... IS NOT NULL), 0004.
        )


EMAIL_KINDS = PHONE_KINDS = ("work", "home", "mobile", "other")


class ContactEmail(Model):
    """One of a contact's emails (migration 0009). The primary one is copied into
    contact.email/email_key, which lists show and sort by; every email belongs to one contact."""

    contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False, backref="emails")
    email = TextField()
    email_key = TextField(unique=True)  # lower-cased: what an email REF resolves through
    kind = TextField(default="other")  # EMAIL_KINDS
    is_primary = BooleanField(default=False)
    position = IntegerField(default=0)  # the order they were given in

    class Meta:
        database = database_proxy
        table_name = "contact_email"
        # Migration 0018: what an export shows of a contact's emails, read off the index.
        indexes = ((("contact", "position", "id", "is_primary", "email", "kind"), False),)


class ContactPhone(Model):
    """One of a contact's phone numbers; the primary one is copied into contact.phone/phone_e164."""

    contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False, backref="phones")
    phone = TextField()  # as typed
    phone_e164 = TextField(null=True, index=True)
    kind = TextField(default="other")  # PHONE_KINDS
    is_primary = BooleanField(default=False)
    position = IntegerField(default=0)

    class Meta:
        database = database_proxy
        table_name = "contact_phone"
        indexes = (
            (("contact", "position", "id", "is_primary", "phone", "phone_e164", "kind"), False),
        )


class MergeAlias(Model):
    """A contact or company merged into another: its old id resolves to the survivor."""

    kind = TextField()  # contact / company
    old_id = BigIntegerField()
    new_id = BigIntegerField()
    merged_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database_proxy
        table_name = "merge_alias"
        primary_key = CompositeKey("kind", "old_id")


class Tag(BaseModel):
    name = TextField()
    name_fold = TextField(unique=True)
    cadence_days = IntegerField(null=True)


class ContactTag(Model):
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

    class Meta:
        database = database_proxy
        legacy_table_names = False
        primary_key = CompositeKey("contact", "tag")


class CompanyTag(Model):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", index=True)

    class Meta:
        database = database_proxy
        legacy_table_names = False
        primary_key = CompositeKey("company", "tag")


class ContactField(Model):
    """A custom field: free key=value pairs per contact."""

    contact = ForeignKeyField(Contact, on_delete="CASCADE", index=False)
    key = TextField()
    value = TextField()

    class Meta:
        database = database_proxy
        legacy_table_names = False
        indexes = (
            (("contact", "key"), True),
            (("key", "value"), False),
            (("contact", "key", "value"), False),  # migration 0018: a value off the index
        )


ACTIVITY_KINDS = (
    "call", "email", "letter", "meeting", "note", "inquiry", "complaint", "return", "review",
    "survey", "document",
)  # fmt: skip
# "document": one that `crm doc render` made from a template (which one, and the file, in its
# body). A plain string column holds the kind, so a new kind needs no migration.
# Kinds that wait for an answer: they stay open until someone resolves them.
TRACKED_KINDS = ("inquiry", "complaint", "return")


class Activity(BaseModel):
    """One entry on a timeline: every kind of interaction with a contact or company."""

    # created_at is not indexed here (migration 0004 dropped it); the composite indexes
    # below serve the contact and company links.
    created_at = UTCDateTimeField(default=utcnow)
    kind = CharField(max_length=16)
    contact = ForeignKeyField(
        Contact, null=True, on_delete="CASCADE", backref="activities", index=False
    )
    company = ForeignKeyField(
        Company, null=True, on_delete="CASCADE", backref="activities", index=False
    )
    occurred_at = UTCDateTimeField()
    direction = CharField(max_length=3, null=True)  # in / out
    subject = TextField(null=True)
    body = TextField(null=True)
    duration_min = IntegerField(null=True)
    outcome = TextField(null=True)
    rating = IntegerField(null=True)  # reviews: 1-5
    score = IntegerField(null=True)  # surveys: e.g. NPS 0-10
    status = CharField(max_length=8, null=True)  # open / resolved, for TRACKED_KINDS
    resolved_at = UTCDateTimeField(null=True)
    resolved_by = TextField(null=True)
    resolution = TextField(null=True)
    owner = TextField(null=True)
    # An open one's occurred_at in seconds since 1970 until `crm remind` printed it (then NULL).
    remind_at = BigIntegerField(null=True)
    # Where it came from outside, unique (partial index, 0009): "message-id:<...>" of a mail
    # logged from stdin, "ical:UID" of an imported event; importing it again adds nothing.
    external_id = TextField(null=True)

    class Meta:
        indexes = (
            (("contact", "occurred_at"), False),
            (("kind", "occurred_at"), False),
            (("occurred_at",), False),
            # Partial (migration 0004): (company, occurred_at) and (deal, occurred_at) where
            # set, occurred_at WHERE status = 'open', and remind_at.
        )


PRIORITIES = ("low", "normal", "high")


class Task(BaseModel):
    title = TextField()
    name_key = TextField()  # fold_variants(title), so a task REF can be part of its title
    contact = ForeignKeyField(Contact, null=True, on_delete="CASCADE", backref="tasks")
    due_at = UTCDateTimeField(null=True)
    due_has_time = BooleanField(default=False)
    # RFC 5545 RRULE (without the prefix); the next occurrence counts from due_at.
    rrule = TextField(null=True)
    series_start = UTCDateTimeField(null=True)  # first due date of a series, for COUNT
    priority = IntegerField(default=1)  # index into PRIORITIES
    note = TextField(null=True)
    done_at = UTCDateTimeField(null=True)
    snoozed_until = UTCDateTimeField(null=True)
    # The occurrence this task was spawned from, so completing twice never spawns twice.
    previous = ForeignKeyField("self", null=True, on_delete="SET NULL", unique=True)
    # Kept by services.tasks (partial indexes, migration 0004): an open task's due time (its
    # snooze, else due_at; NULL when done), and the same in seconds since 1970 until
    # `crm remind` printed that occurrence (then NULL).
    open_due_at = UTCDateTimeField(null=True)
    remind_at = BigIntegerField(null=True)
    external_id = TextField(null=True)  # "ical:UID" of an imported VTODO; see Activity
    # Its contact's name (migration 0020, kept by triggers there, never written here), so a
    # list of tasks reads no contact. No Python default: inserts leave it to the database.
    contact_name = TextField(null=True)

    class Meta:
        indexes = ((("done_at", "due_at"), False), (("contact", "done_at"), False))


class ReminderLog(Model):
    """What `crm remind` has printed: one row per occurrence, so each is printed once."""

    key = TextField(primary_key=True)
    reminded_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database_proxy
        legacy_table_names = False


class Stage(BaseModel):
    """A step of the sales process, in `position` order; won and lost stages close a deal."""

    name = TextField()
    name_fold = TextField(unique=True)
    position = IntegerField(index=True)
    probability = IntegerField()  # percent, 0-100: what an open deal here is weighted with
    is_won = BooleanField(default=False)
    is_lost = BooleanField(default=False)


class Deal(BaseModel):
    title = TextField()
    name_key = TextField(index=True)  # fold_variants(title), so a deal REF can be part of it
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL", backref="deals")
    company = ForeignKeyField(Company, null=True, on_delete="SET NULL", backref="deals")
    amount_cents = BigIntegerField(default=0)
    currency = CharField(max_length=3, default="EUR")
    stage = ForeignKeyField(Stage, backref="deals", index=False)  # see indexes
    expected_close = DateField(null=True)
    owner = TextField(null=True)
    source = TextField(null=True)
    lost_reason = TextField(null=True)
    closed_at = UTCDateTimeField(null=True)  # set while the deal is won or lost

    class Meta:
        indexes = (
            (("stage", "id"), False),
            (("stage", "expected_close"), False),
            (("closed_at",), False),
        )


class DealStageChange(Model):
    """One step of a deal's history: from (None when it was opened) and to which stage, when,
    by whom. Written in the same transaction as the move, so the funnel counts facts."""

    deal = ForeignKeyField(Deal, on_delete="CASCADE", backref="history", index=False)
    from_stage = ForeignKeyField(Stage, null=True)
    to_stage = ForeignKeyField(Stage)
    changed_at = UTCDateTimeField()
    changed_by = TextField(null=True)
    # The stay this step began, once the next step ended it (None while it lasts): when, and
    # how long in whole seconds. With the deal's currency, so the funnel's medians read an index.
    left_at = UTCDateTimeField(null=True)
    stay_seconds = BigIntegerField(null=True)
    currency = CharField(max_length=3, default="EUR")

    class Meta:
        database = database_proxy
        legacy_table_names = False
        indexes = (
            (("deal", "changed_at"), False),
            (("to_stage", "currency", "stay_seconds"), False),
        )


# Activities and tasks may belong to a deal (migration 0003); declared here, after Deal.
Activity._meta.add_field(
    "deal",
    ForeignKeyField(Deal, null=True, on_delete="SET NULL", backref="activities", index=False),
)
Task._meta.add_field(
    "deal", ForeignKeyField(Deal, null=True, on_delete="SET NULL", backref="tasks")
)


class Setting(Model):
    """A fact about the database itself, by key (migration 0005); `demo`: what crm demo made."""

    key = TextField(primary_key=True)
    value = TextField(null=True)  # JSON where the key needs more than one value
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = database_proxy
        table_name = "setting"


class Product(BaseModel):
    """A product of the catalogue (migration 0010). Money in cents, net; VAT in basis points."""

    sku = TextField()
    sku_key = TextField(unique=True)  # the SKU folded to upper case: what a product REF matches
    name = TextField()
    category = TextField(null=True, index=True)  # the product segment
    price_cents = BigIntegerField()  # net unit price
    vat_bp = IntegerField()  # VAT rate in basis points: 1900 = 19 %, 700 = 7 %
    unit = TextField(default="Stück")
    active = BooleanField(default=True)


ORDER_STATUSES = ("open", "paid", "shipped", "cancelled", "returned", "abandoned")
# Orders that count as a purchase (revenue, CLV); cancelled, returned and abandoned do not.
PURCHASE_STATUSES = ("open", "paid", "shipped")


class SalesOrder(BaseModel):
    """An order of a contact (table sales_order: "order" is an SQL keyword). The totals are
    the sums of its lines, kept by services.orders; the order outlives its contact."""

    contact = ForeignKeyField(
        Contact, null=True, on_delete="SET NULL", backref="orders", index=False
    )
    ordered_at = UTCDateTimeField()
    status = CharField(max_length=10, default="open")  # ORDER_STATUSES
    channel = TextField(null=True)
    # campaign and keyword: references since 0012, declared at the end of this file
    discount_bp = IntegerField(default=0)  # on every line: 1000 = 10 %
    currency = CharField(max_length=3, default="EUR")
    note = TextField(null=True)
    external_id = TextField(null=True)  # unique where set (partial index, 0010)
    net_cents = BigIntegerField(default=0)
    vat_cents = BigIntegerField(default=0)
    gross_cents = BigIntegerField(default=0)

    class Meta:
        table_name = "sales_order"
        indexes = ((("contact", "ordered_at"), False), (("ordered_at",), False))


class OrderLine(Model):
    """One line of an order: price and VAT rate as they were when it was ordered."""

    order = ForeignKeyField(SalesOrder, on_delete="CASCADE", backref="lines", index=False)
    position = IntegerField(default=0)
    product = ForeignKeyField(Product, null=True, on_delete="RESTRICT", backref="lines")
    name = TextField()
    qty = IntegerField()
    unit_price_cents = BigIntegerField()  # net
    vat_bp = IntegerField()
    discount_cents = BigIntegerField(default=0)  # this line's share of the order's discount
    net_cents = BigIntegerField()
    vat_cents = BigIntegerField()
    gross_cents = BigIntegerField()

    class Meta:
        database = database_proxy
        table_name = "order_line"
        indexes = ((("order", "position"), False),)


# --- i19-mail: consent as a history, and what each mailing sent to whom (migration 0013)

CONSENT_ACTIONS = ("grant", "withdraw")


class ConsentEntry(Model):
    """One event of a contact's consent to a purpose (newsletter, offers...): a grant with the
    text and version agreed to and its double-opt-in confirmation, or a withdrawal. Entries
    are never changed but for a grant's confirmation; the newest by `at` (then id) is in force."""

    created_at = UTCDateTimeField(default=utcnow)
    contact = ForeignKeyField(Contact, on_delete="CASCADE", backref="consents", index=False)
    purpose = TextField()  # lower case
    action = CharField(max_length=8)  # CONSENT_ACTIONS
    at = UTCDateTimeField()
    source = TextField(null=True)  # web form, phone, paper, import, migrated...
    text = TextField(null=True)  # the consent text agreed to (grants)
    version = TextField(null=True)  # of that text
    confirmed_at = UTCDateTimeField(null=True)  # double opt-in (grants)

    class Meta:
        database = database_proxy
        table_name = "consent_entry"
        indexes = ((("contact", "purpose", "at"), False), (("purpose", "at"), False))


class MailingRecipient(Model):
    """A mail a mailing sent: written in the step that logs it on the timeline, so a run that
    was interrupted sends again to nobody it reached (unique mailing + recipient)."""

    mailing = TextField()  # the mailing's name: the template and a digest of it, or --name
    template = TextField()
    # "contact:12" or "user:name@example.de" (a mail to staff)
    recipient = TextField()
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL", index=False)
    email = TextField()
    sent_at = UTCDateTimeField()
    message_id = TextField()
    activity = ForeignKeyField(Activity, null=True, on_delete="SET NULL", index=False)

    class Meta:
        database = database_proxy
        table_name = "mailing_recipient"
        indexes = ((("mailing", "recipient"), True), (("contact",), False))


# --- i19-roi: campaigns, their keywords and costs, and what brought a contact, deal or order
# (migration 0012).
CAMPAIGN_CHANNELS = (
    "search ads", "social", "newsletter", "print", "trade fair", "referral", "email", "display",
    "affiliate", "radio", "tv", "event", "other",
)  # fmt: skip


class Campaign(BaseModel):
    """A marketing campaign: a channel, a period, keywords, and its costs (campaign_cost)."""

    name = TextField()
    name_fold = TextField(unique=True)  # fold(name): one campaign per name, case-insensitive
    channel = TextField(default="other")  # CAMPAIGN_CHANNELS
    starts_on = DateField(null=True)
    ends_on = DateField(null=True)
    note = TextField(null=True)


class CampaignKeyword(Model):
    """A keyword (a search term, utm_term) of a campaign, unique per campaign and folded."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE", backref="keywords", index=False)
    keyword = TextField()
    keyword_fold = TextField()

    class Meta:
        database = database_proxy
        table_name = "campaign_keyword"
        indexes = ((("campaign", "keyword_fold"), True),)


class CampaignCost(BaseModel):
    """One cost entry of a campaign (a month's ad spend, a print run), optionally a keyword's."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE", backref="costs", index=False)
    spent_on = DateField()
    amount_cents = BigIntegerField()
    keyword = ForeignKeyField(CampaignKeyword, null=True, on_delete="SET NULL")
    note = TextField(null=True)

    class Meta:
        table_name = "campaign_cost"
        indexes = ((("campaign", "spent_on"), False),)


# The campaign and keyword that brought a contact, a deal or an order (orders: the free-text
# campaign of 0010 became a reference). Indexed with what the ROI report reads, see 0012.
for _model in (Contact, Deal, SalesOrder):
    _model._meta.add_field(
        "campaign", ForeignKeyField(Campaign, null=True, on_delete="SET NULL", index=False)
    )
    _model._meta.add_field(
        "keyword", ForeignKeyField(CampaignKeyword, null=True, on_delete="SET NULL", index=False)
    )
del _model
# --- i18-rest: returns about an order, costs and margin, commissions (migration 0014) ---

# A return (or any activity) may be about an order of its contact; the order outlives it.
Activity._meta.add_field(
    "order",
    ForeignKeyField(SalesOrder, null=True, on_delete="SET NULL", backref="activities", index=False),
)
# What a product costs to buy (net, cents; NULL: not known, so its margin is unknown), and
# what an order cost besides its goods (shipping, packaging, fees; net cents).
Product._meta.add_field("cost_cents", BigIntegerField(null=True))
SalesOrder._meta.add_field("cost_cents", BigIntegerField(default=0))
# The goods' purchase cost of an order line at the time it was ordered (qty × the product's
# cost then; NULL when the product's cost was not known).
OrderLine._meta.add_field("cost_cents", BigIntegerField(null=True))
# Migration 0014 also indexes sales_order (contact_id, ordered_at, status, net_cents): it
# covers the customer value reports' scans (RFM, purchase histories).
# What the ROI report sums, on the order (migration 0016, kept by triggers there, never
# written here): its contact's lead source, and its lines' known purchase costs. No Python
# default, so that inserts leave both to the database.
SalesOrder._meta.add_field("source", TextField(null=True))
SalesOrder._meta.add_field("goods_cost_cents", BigIntegerField(constraints=[SQL("DEFAULT 0")]))


class OrderStatusChange(Model):
    """A change of an order's status and when it was made (migration 0017): a return or a
    cancellation is corrected in the VAT period of its change, not in its order's."""

    order = ForeignKeyField(SalesOrder, on_delete="CASCADE", backref="status_changes", index=False)
    at = UTCDateTimeField()
    old_status = CharField(max_length=10)  # ORDER_STATUSES
    new_status = CharField(max_length=10)

    class Meta:
        database = database_proxy
        table_name = "order_status_change"
        indexes = ((("order", "at"), False), (("at",), False))


COMMISSION_BASES = ("deals", "orders")


class Commission(BaseModel):
    """A commission rule: an owner earns `rate_bp` of the won deals' amounts (basis deals,
    by the deal's owner) or of the orders' net (basis orders, by the contact's owner) from
    `valid_from` on, until a later rule of the same owner and basis takes over."""

    owner = TextField()
    owner_key = TextField()  # fold(owner): how rules and deals' owners meet
    basis = CharField(max_length=8)  # COMMISSION_BASES
    rate_bp = IntegerField()  # 500 = 5 %
    valid_from = DateField()

    class Meta:
        table_name = "commission"
        indexes = ((("owner_key", "basis", "valid_from"), True),)
