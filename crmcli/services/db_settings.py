"""Settings of a database that every user and cron job of it shares (table setting), by key.

- remind.next_purchase: whether `crm remind` lists repeat customers due to buy again
  (services.reminders.purchases_due): `on` (every customer), a list of tags (customers
  with any of them; each must exist), or `off` (the default: remind reads no orders).
"""

from __future__ import annotations

import json
from datetime import datetime

from crmcli.errors import Invalid
from crmcli.models import Setting, utcnow
from crmcli.values import fold

NEXT_PURCHASE = "remind.next_purchase"
KEYS = {NEXT_PURCHASE: "on, off, or tags (comma-separated): whom crm remind calls to buy again"}


def check_key(key: str) -> str:
    name = key.strip().lower().replace("-", "_")
    if name not in KEYS:
        raise Invalid("setting", f"'{key}' is not a setting (known: {', '.join(KEYS)})")
    return name


def _parse(key: str, text: str):
    """A setting's value as stored (JSON-able); None removes it."""
    value = " ".join(text.split())
    if fold(value) in ("on", "yes", "ja", "an", "true", "1", "all", "alle"):
        return True
    if fold(value) in ("off", "no", "nein", "aus", "false", "0", ""):
        return None
    tags = [t.strip().removeprefix("tag:") for t in value.split(",")]
    if any(not t for t in tags):
        raise Invalid("setting", f"'{text}' is not on, off or a list of tags (vip, stammkunde)")
    from crmcli.models import Tag

    known = set(
        Tag.select(Tag.name_fold).where(Tag.name_fold.in_([fold(t) for t in tags])).scalars()
    )
    unknown = [t for t in tags if fold(t) not in known]
    if unknown:
        # "maybe" is more likely a mistyped on/off than a tag nobody has: say what is accepted
        names = ", ".join(repr(t) for t in unknown)
        raise Invalid(
            "setting",
            f"{key} is on, off or tags of contacts (comma-separated), and there is no tag {names}",
        )
    return sorted(set(tags), key=fold)


def get_setting(key: str):
    """A setting's stored value (None: not set)."""
    raw = Setting.select(Setting.value).where(Setting.key == check_key(key)).scalar()
    return None if raw is None else json.loads(raw)


def set_setting(key: str, text: str, *, now: datetime | None = None):
    """Set (or with off, remove) a setting; returns the value stored."""
    name = check_key(key)
    value = _parse(name, text)
    if value is None:
        Setting.delete().where(Setting.key == name).execute()
        return None
    raw = json.dumps(value, ensure_ascii=False)
    now = now or utcnow()
    Setting.insert(key=name, value=raw, updated_at=now).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: raw, Setting.updated_at: now}
    ).execute()
    return value


def all_settings() -> list[dict]:
    """Every known setting with its value (None: not set) and what it does."""
    return [{"key": k, "value": get_setting(k), "about": about} for k, about in KEYS.items()]
