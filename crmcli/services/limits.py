"""How long free text may be, written once for every record: a name is a name, not a pasted
file. One clear error names the field, its length and the limit."""

from __future__ import annotations

from crmcli.errors import Invalid

NAME = 200
EMAIL = 254  # RFC 5321's limit for a whole address
PHONE = 64
LINE = 200  # one-line fields: position, street, city, source, owner, industry...
SUBJECT = 500
LONG = 100_000  # notes, activity text, resolutions: a long mail fits, a pasted file does not

# A recurring task's COUNT: a series of 10,000 occurrences is 27 years of daily ones.
MAX_OCCURRENCES = 10_000

# Field -> its limit. Fields not named here are one line (LINE).
LIMITS = {
    "name": NAME, "title": NAME, "email": EMAIL, "phone": PHONE, "zip": 20, "domain": 253,
    "subject": SUBJECT, "outcome": 2_000, "lost_reason": 2_000, "reason": 2_000,
    "notes": LONG, "body": LONG, "message": LONG, "resolution": LONG, "note": LONG,
    "field": 10_000, "tag": 64, "stage": 100, "currency": 3,
}  # fmt: skip


def check(field: str, text: str | None) -> str | None:
    """`text` unchanged when it fits the limit of `field`; Invalid when it is longer or holds
    a NUL character."""
    if text is None:
        return None
    if "\x00" in text:  # PostgreSQL cannot store it, and no typed text holds one
        raise Invalid(
            field.replace("_", "-"),
            "holds a NUL character (binary data, or UTF-16 without a byte order mark?)",
        )
    limit = LIMITS.get(field, LINE)
    if len(text) > limit:
        raise Invalid(
            field.replace("_", "-"), f"is {len(text):,} characters long; at most {limit:,}"
        )
    return text
