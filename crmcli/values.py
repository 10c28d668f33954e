"""Parse and format the values people type: dates, money, phone numbers, emails, search text,
custom fields, durations and recurrence rules.

Pure functions. dateutil, phonenumbers and email_validator are imported inside the functions
that use them, so importing this module costs next to nothing at `crm` start-up.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from crmcli.errors import Invalid


def _q(text: str) -> str:
    """The user's input quoted for a one-line message (repr escapes newlines)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


# ---------------------------------------------------------------- time zones and formatting


@functools.lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo:
    # The standard library's zoneinfo loads in a third of dateutil.tz's time, which every
    # `crm show` pays; dateutil still reads what zoneinfo cannot (POSIX TZ strings, paths).
    from zoneinfo import ZoneInfo

    key = name.lstrip(":")
    try:
        if key:
            return ZoneInfo(key)
        if os.path.exists("/etc/localtime"):
            with open("/etc/localtime", "rb") as fh:
                return ZoneInfo.from_file(fh, key="localtime")
    except (ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError: below
        pass
    except KeyError:
        pass
    import warnings

    from dateutil import tz

    if not key:
        return tz.gettz() or tz.UTC  # no TZ and no readable system zone
    if not (os.sep in key or re.search(r"(?a)\d", key)):
        # Neither a zone name (zoneinfo has none such), a path to a zone file, nor a POSIX
        # rule with an offset (CET-1CEST,...): dateutil would answer "garbage" with the C
        # library's reading of it, UTC, and every time shown would be off by hours.
        raise Invalid(
            "TZ",
            f"{_q(name)} is not a time zone (try Europe/Berlin, or unset TZ for the system's)",
        )
    with warnings.catch_warnings():  # a relative path warns (DeprecatedTzKeyWarning)
        warnings.simplefilter("ignore")
        zone = tz.gettz(name)
    if zone is None or not _sane(zone):
        raise Invalid(
            "TZ",
            f"{_q(name)} is not a time zone (try Europe/Berlin, or unset TZ for the system's)",
        )
    return zone


def _sane(zone: tzinfo) -> bool:
    """A zone whose offsets datetime accepts (less than a day): TZ=UTC+99 parses, then fails
    the first time a time is converted."""
    try:
        return all(
            abs(datetime(2026, month, 1, tzinfo=zone).utcoffset() or timedelta()) < timedelta(1)
            for month in (1, 7)
        )
    except (ValueError, OverflowError):
        return False


def local_tz() -> tzinfo:
    """The user's time zone: the TZ environment variable, else the system zone (UTC if the
    system has none). TZ may be a zone name (Europe/Berlin), a path to a zone file, or a
    POSIX rule with an offset (CET-1CEST,M3.5.0,M10.5.0/3). Anything else is an error
    (Invalid, field "TZ"), not a silent UTC: times typed and shown would be off by hours,
    and reminders with them."""
    return _zone(os.environ.get("TZ", ""))


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_seconds(moment: datetime) -> int:
    """Whole seconds since 1970, counted as the databases count them (strftime('%s'),
    FLOOR(EXTRACT(EPOCH))): reminder keys and queues, and stage stays, compare the two."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int((moment.replace(microsecond=0) - _UNIX_EPOCH).total_seconds())


def to_utc(dt: datetime) -> datetime:
    """`dt` as an aware UTC datetime; a naive `dt` is taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def format_datetime(dt: datetime | None, *, with_seconds: bool = False) -> str:
    """Local wall time for people, `2026-12-24 14:00`; "" for None."""
    if dt is None:
        return ""
    local = to_utc(dt).astimezone(local_tz())
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def format_date(d: date | datetime | None) -> str:
    """ISO date `2026-12-24` (a datetime gives its local date); "" for None."""
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = to_utc(d).astimezone(local_tz()).date()
    return d.isoformat()


def iso(value: date | datetime | None) -> str | None:
    """ISO-8601 for JSON: a datetime in UTC to the second (`2026-12-24T13:00:00+00:00`),
    a date as `2026-12-24`, None as None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_utc(value).isoformat(timespec="seconds")
    return value.isoformat()


# ---------------------------------------------------------------- dates and times

_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            "monday mon mo montag",
            "tuesday tue tues di dienstag",
            "wednesday wed mi mittwoch",
            "thursday thu thur thurs do donnerstag",
            "friday fri fr freitag",
            "saturday sat sa samstag sonnabend",
            "sunday sun so sonntag",
        )
    )
    for name in names.split()
}
_UNITS = {
    word: unit
    for unit, words in {
        "minutes": "min mins minute minutes minuten",
        "hours": "h hr hrs hour hours std stunde stunden",
        "days": "d day days t tag tage tagen",
        "weeks": "w wk wks week weeks woche wochen",
        "months": "m mo mon month months monat monate monaten",
        "years": "y yr yrs year years j jahr jahre jahren",
    }.items()
    for word in words.split()
}
_DAY_WORDS = {"today": 0, "heute": 0, "tomorrow": 1, "morgen": 1, "yesterday": -1, "gestern": -1}
_DAY_WORDS |= {"ubermorgen": 2, "uebermorgen": 2, "vorgestern": -2}
_END_OF_MONTH = {"end of month", "eom", "monatsende", "ende des monats"}
# Patterns are strings, compiled on first use by re's cache: compiling them all at import
# would add ~2 ms to every `crm` start. (?a): \d and \s mean ASCII only.
_NUM = r"\d+|an?|one|ein|eine[mnr]?"
_OFFSET = (
    rf"(?a)(?P<sign>[+-]) ?(?P<n>\d+) ?(?P<unit>[a-z]+)|in (?P<n2>{_NUM}) (?P<unit2>[a-z]+)"
    rf"|(?P<n3>{_NUM}) (?P<unit3>[a-z]+) ago|vor (?P<n4>{_NUM}) (?P<unit4>[a-z]+)"
)
_NEXT = r"(?a)(?:(next|n(?:a|ae)chste[nrs]?|kommende[nrs]?) )?([a-z]+)"
_GERMAN_DATE = r"(?a)(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?"
_ISO_DATE = r"(?a)\d{4}-\d{2}-\d{2}"
_ISO_DATETIME = (
    r"(?a)\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:z|[+-]\d{2}(?::?\d{2})?)?"
)
_TIME = (
    r"(?a)(?:^|[ ,]+)(?:(?:at|um) )?(?:(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?: ?uhr)?"
    r"|(?P<h2>\d{1,2})(?:\.(?P<m2>\d{2}))? ?uhr"
    r"|(?P<h3>\d{1,2})(?::(?P<m3>\d{2}))? ?(?P<ap>am|pm))$"
)
_WHEN_HINT = "try 2026-12-24, 24.12.2026 14:00, tomorrow 9:00, +3d, next monday"
_DATE_RANGE = "dates run from 0001-01-01 to 9999-12-31"


class _OutOfRange(Exception):
    """A form that reads, but names a day before the year 1 or after 9999 (+99999999d)."""


def _at(day: date, clock: time = time()) -> datetime:
    """Local wall time `clock` on `day`, aware; a time skipped by a DST change moves forward."""
    from dateutil import tz

    return tz.resolve_imaginary(datetime.combine(day, clock, tzinfo=local_tz()))


def _full_year(yy: int, ref_year: int) -> int:
    """A two-digit year read into the window [ref_year - 89, ref_year + 10]."""
    year = ref_year // 100 * 100 + yy
    if year > ref_year + 10:
        year -= 100
    elif year < ref_year - 89:
        year += 100
    return year


def _count(n: str) -> int:
    if not n.isdigit():
        return 1
    if len(n) > 9:  # more days than the calendar has (and no 4,300-digit int() for Python)
        raise _OutOfRange
    return int(n)


def _day(
    s: str, now: datetime, prefer: str = "future", after: date | None = None
) -> date | datetime | None:
    """A date expression without a clock time: a calendar date, or an exact local datetime
    for `now` and offsets; None if `s` is not one. `prefer` and `after`: see parse_when_ex."""
    from dateutil import tz
    from dateutil.relativedelta import relativedelta

    s = re.sub(r"^(?:am|on) ", "", s)
    today = now.date()
    if s in ("now", "jetzt"):
        return now
    if s in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[s])
    if s in _END_OF_MONTH:
        return today + relativedelta(day=31)
    if m := re.fullmatch(_OFFSET, s):
        n = _count(m["n"] or m["n2"] or m["n3"] or m["n4"])
        if m["sign"] == "-" or m["n3"] or m["n4"]:
            n = -n
        unit = _UNITS.get(m["unit"] or m["unit2"] or m["unit3"] or m["unit4"])
        if unit is None:
            return None
        try:
            if unit in ("minutes", "hours"):  # elapsed time, whatever the wall clock does
                return (now.astimezone(UTC) + timedelta(**{unit: n})).astimezone(now.tzinfo)
            return tz.resolve_imaginary(now + relativedelta(**{unit: n}))
        except (ValueError, OverflowError):  # past the year 9999 or before the year 1
            raise _OutOfRange from None
    if m := re.fullmatch(_NEXT, s):
        word = m[2]
        if word in _WEEKDAYS:
            weekday = _WEEKDAYS[word]
            if prefer == "past" and not m[1]:
                if after is not None:  # the first such day from the period's start on
                    return after + relativedelta(weekday=weekday)
                return today + relativedelta(weekday=_weekday(weekday))
            return today + relativedelta(days=1, weekday=weekday)
        unit = _UNITS.get(word)
        if m[1] and unit in ("days", "weeks", "months", "years"):
            return today + relativedelta(**{unit: 1})
        return None
    if m := re.fullmatch(_GERMAN_DATE, s):
        day, month, year = int(m[1]), int(m[2]), m[3]
        if year:
            full = _full_year(int(year), today.year) if len(year) == 2 else int(year)
            return date(full, month, day)
        return _yearless(day, month, today, prefer, after)
    if re.fullmatch(_ISO_DATE, s):
        from dateutil.parser import isoparse

        return isoparse(s).date()
    return None


def _weekday(index: int):
    """The most recent `index` weekday, today included (relativedelta's MO(-1) and so on)."""
    from dateutil.relativedelta import weekday

    return weekday(index, -1)


def _yearless(day: int, month: int, today: date, prefer: str, after: date | None) -> date | None:
    """`24.12.` as a date: the next such day, today included (prefer "future"); the most
    recent, today included (prefer "past"), or with `after` the first one from it on (the
    same day included: `--since 15.11. --until 15.11.` is the empty period the same dates
    with years give, not a year). Nine years around find 29.02. too."""
    if prefer == "past" and after is not None:
        years, keep = range(after.year, after.year + 9), lambda d: d >= after
    elif prefer == "past":
        years, keep = range(today.year, today.year - 9, -1), lambda d: d <= today
    else:
        years, keep = range(today.year, today.year + 9), lambda d: d >= today
    for y in years:
        try:
            if keep(found := date(y, month, day)):
                return found
        except ValueError:
            continue
    return None


def _counts_days(s: str) -> bool:
    """Whether `s` is an offset in days, weeks, months or years (`+3d`, `in 2 weeks`): a day,
    reached from now, that names no time of day (unlike `now`, `+4h`, `+30min`)."""
    m = re.fullmatch(_OFFSET, re.sub(r"^(?:am|on) ", "", s))
    if m is None:
        return False
    return _UNITS.get(m["unit"] or m["unit2"] or m["unit3"] or m["unit4"]) not in (
        "minutes",
        "hours",
    )


def _clock(m: re.Match[str]) -> time | None:
    hour = int(m["h"] or m["h2"] or m["h3"])
    minute, second = int(m["m"] or m["m2"] or m["m3"] or 0), int(m["s"] or 0)
    if m["ap"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ap"] == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _parse(
    text: str, now: datetime, prefer: str = "future", after: date | None = None
) -> tuple[datetime, str] | None:
    """(aware local datetime, kind): kind is "date" (a day), "time" (a clock time was given),
    "days" (an offset in days to years, keeping now's time of day) or "exact" (now, or an
    offset in hours or minutes)."""
    s = fold(text)
    now = to_utc(now).astimezone(local_tz())
    try:
        if re.fullmatch(_ISO_DATETIME, s):
            from dateutil.parser import isoparse

            dt = isoparse(s.upper())
            if dt.tzinfo is None:
                return _at(dt.date(), dt.time()), "time"
            return dt.astimezone(local_tz()), "time"
        if (day := _day(s, now, prefer, after)) is not None:
            if not isinstance(day, datetime):
                return _at(day), "date"
            return day, ("days" if _counts_days(s) else "exact")
        if not (m := re.search(_TIME, s)) or not (clock := _clock(m)):
            return None
        rest = s[: m.start()]
        day = _day(rest, now, prefer, after) if rest else now.date()
        if day is None:
            return None
        return _at(day.date() if isinstance(day, datetime) else day, clock), "time"
    except (ValueError, OverflowError):
        return None


def _parse_in_range(
    text: str, now: datetime, field: str, prefer: str = "future", after: date | None = None
) -> tuple[datetime, str] | None:
    if prefer not in ("future", "past"):
        raise ValueError(f"prefer must be 'future' or 'past', not {prefer!r}")
    try:
        parsed = _parse(text, now, prefer, after)
        if parsed is not None:
            parsed[0].astimezone(UTC)  # 9999-12-31 23:00 local may be past UTC's calendar
        return parsed
    except _OutOfRange:
        raise Invalid(field, f"{_q(text)} is out of range ({_DATE_RANGE})") from None
    except (ValueError, OverflowError):
        raise Invalid(field, f"{_q(text)} is out of range ({_DATE_RANGE})") from None


def parse_when_ex(
    text: str,
    now: datetime,
    *,
    field: str = "date",
    prefer: str = "future",
    after: date | None = None,
) -> tuple[datetime, bool]:
    """Read a date and/or time as (aware UTC datetime, has_time); wall times are local.

    Accepts ISO (`2026-12-24`, `2026-12-24 14:00`, `2026-12-24T14:00:00+01:00`), German
    (`24.12.2026`, `24.12.26`, `24.12.` = next such day, today included, `24.12.2026, 14:00 Uhr`)
    and relative forms in English or German: `now`, `today`, `tomorrow`, `übermorgen`, `+3d`,
    `-2w`, `+1m` (month), `+4h`, `+30min`, `in 2 weeks`, `in 3 tagen`, `2 days ago`,
    `vor 2 tagen`, `fri`/`freitag`, `next monday`/`nächsten montag`, `next week`,
    `next month`, `end of month`. Any date form may be followed by a time:
    `9:00`, `14:30:15`, `9am`, `9pm`, `14 Uhr`, `9.30 Uhr`, `um 14 Uhr`; a time alone is today.

    Rules: a bare weekday is its next occurrence strictly after today (like `next`), a day
    without a year (`24.12.`) the next such day, today included: what due dates, close dates
    and snoozes mean. With prefer="past" (the start or end of a period a listing or report
    looks back on: --since, --until, --created-since) both mean the most recent such day,
    today included, and with `after` (the period's start, for its end) the first such day
    after it: `--since 1.11. --until 30.11.` is November whatever today is. Two-digit
    years fall in [now.year - 89, now.year + 10]. Date-only forms mean 00:00 local and give
    has_time False. `now` and offsets are exact and keep the time of day (has_time True):
    d/w/m/y offsets count on the local wall clock (`+1d` across DST keeps 10:00), h/min
    count elapsed time. A wall time skipped by DST moves forward by the gap.
    """
    parsed = _parse_in_range(text, now, field, prefer, after)
    if parsed is None:
        raise Invalid(field, f"cannot read {_q(text)} as a date or time ({_WHEN_HINT})")
    dt, kind = parsed
    return dt.astimezone(UTC), kind != "date"


def parse_when_kind(
    text: str, now: datetime, *, field: str = "date", prefer: str = "future"
) -> tuple[datetime, bool]:
    """(aware UTC datetime, names_time): as parse_when_ex, but names_time says whether the
    text names a time of day or an exact moment (`tomorrow 9:00`, `now`, `+4h`) rather than
    only a day (`fri`, `24.12.`, `+3d`, `in 2 weeks`, whose datetime has now's time of day
    or midnight). What `crm snooze` needs to keep a task's own time of day."""
    parsed = _parse_in_range(text, now, field, prefer)
    if parsed is None:
        raise Invalid(field, f"cannot read {_q(text)} as a date or time ({_WHEN_HINT})")
    dt, kind = parsed
    return dt.astimezone(UTC), kind in ("time", "exact")


def at_local(day: date, clock: time) -> datetime:
    """Local wall time `clock` on `day` as an aware UTC datetime; a wall time skipped by a
    DST change moves forward by the gap."""
    return _at(day, clock).astimezone(UTC)


def parse_when(
    text: str,
    now: datetime,
    *,
    field: str = "date",
    prefer: str = "future",
    after: date | None = None,
) -> datetime:
    """Read a date and/or time as an aware UTC datetime; see parse_when_ex for the forms."""
    return parse_when_ex(text, now, field=field, prefer=prefer, after=after)[0]


def parse_date(text: str, now: datetime, *, field: str = "date", prefer: str = "future") -> date:
    """Read a calendar day (birthdays, close dates) as the local date; any parse_when form
    without a clock time (`24.12.1980`, `1980-12-24`, `24.12.80`, `today`, `+3d`)."""
    parsed = _parse_in_range(text, now, field, prefer)
    if parsed is None:
        hint = "try 24.12.1980, 1980-12-24, today, next monday"
        raise Invalid(field, f"cannot read {_q(text)} as a date ({hint})")
    if parsed[1] == "time":
        raise Invalid(field, f"expects a date without time, got {_q(text)}")
    return parsed[0].date()


# ---------------------------------------------------------------- birthdays

# A birthday without a year is stored in this year (no schema change), as Apple Contacts does:
# a leap year, so 29.02. fits, and long enough past that no real birthday falls in it.
NO_YEAR = 1604
_DAY_MONTH = re.compile(r"(?a)(\d{1,2})\.(\d{1,2})\.?|--(\d\d)-?(\d\d)")


class YearlessDate(date):
    """A birthday whose year nobody knows: ISO 8601/vCard `--12-24` in JSON and CSV, shown
    as `24.12.`, no age. Compare and store it as the date in NO_YEAR it is."""

    def isoformat(self) -> str:
        return f"--{self.month:02d}-{self.day:02d}"

    __str__ = isoformat

    def shown(self) -> str:
        return f"{self.day:02d}.{self.month:02d}."


def birthday_value(stored: date | None) -> date | None:
    """A stored birthday as services hand it on: the date, or a YearlessDate for NO_YEAR."""
    if stored is None or stored.year != NO_YEAR:
        return stored
    return YearlessDate(NO_YEAR, stored.month, stored.day)


_BIRTHDAY_HINT = "try 24.12.1968, 1968-12-24, or 24.12. without a year"
# Dates that are one calendar day whenever they are read: no second reading needed.
_ABSOLUTE_DATE = re.compile(
    r"(?a)\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}/\d{2,4}"
)


def _same_day_later(text: str, day: date, now: datetime) -> bool:
    try:
        return parse_date(text, now + timedelta(days=8)) == day
    except Invalid:
        return False


def parse_birthday(text: str, now: datetime, *, field: str = "birthday") -> date:
    """Read a birthday: a full date as parse_date reads it (`24.12.1968`, `1968-12-24`), or
    a day without a year (`24.12.`, `24.12`, vCard's `--12-24`), kept as a YearlessDate."""
    found = _DAY_MONTH.fullmatch(text.strip())
    if found is None:
        try:
            born = parse_date(text, now, field=field)
        except Invalid as exc:
            if "cannot read" not in exc.why:
                raise
            raise Invalid(field, f"cannot read {_q(text)} as a date ({_BIRTHDAY_HINT})") from None
        # Relative words (today, gestern, next monday, +3d) name another day a week later: a
        # birthday is a calendar date, which reads the same whenever it is read.
        if _ABSOLUTE_DATE.fullmatch(text.strip()) is None and not _same_day_later(text, born, now):
            raise Invalid(
                field, f"{_q(text)} is relative; a birthday is a calendar date ({_BIRTHDAY_HINT})"
            )
        return born
    day, month = (int(found[1]), int(found[2])) if found[1] else (int(found[4]), int(found[3]))
    try:
        return YearlessDate(NO_YEAR, month, day)
    except ValueError:
        raise Invalid(field, f"{_q(text)} is no day of the year") from None


# ---------------------------------------------------------------- money

_MONEY = (
    r"(?ai)(?P<s1>[-+])? ?(?P<c1>€|eur)? ?(?P<s2>[-+])? ?(?P<num>\d[\d.,]*?)(?P<dash>[.,]--?)?"
    r" ?(?P<c2>€|eur)?"
)
_MONEY_HINT = "try 1.234,50 or 1234.50"


def _plain_number(num: str) -> str | None:
    """`num` ("1.234,50") as a plain decimal ("1234.50"); None if its separators make no sense."""
    seps = [c for c in num if c in ".,"]
    point = None
    if len(set(seps)) == 2:  # both kinds: the last one is the decimal separator
        point = seps[-1] if seps.count(seps[-1]) == 1 else ""
    elif len(seps) == 1:  # "1.234" is 1234, "12,5" and "0,500" are decimals
        whole, frac = num.split(seps[0])
        grouping = len(frac) == 3 and len(whole) <= 3 and not whole.startswith("0")
        point = None if grouping else seps[0]
    if point == "":
        return None
    whole, frac = num.rsplit(point, 1) if point else (num, "")
    groups = re.split(r"[.,]", whole)
    if len(groups) > 1 and not (len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return None
    if point and not frac.isdigit():
        return None
    return "".join(groups) + (f".{frac}" if frac else "")


def parse_money(text: str, *, field: str = "amount") -> Decimal:
    """Read an amount of money as a Decimal with 2 places, never via float.

    Accepts `1.234,50`, `1234,50`, `1234.50`, `1,234.50`, `€ 1.234,50`, `1.234,50 €`,
    `1234.50 EUR`, `-5`, `5,-`. If both `.` and `,` occur, the last is the decimal separator.
    A single separator followed by exactly 3 digits, after 1 to 3 digits that do not start
    with 0, groups thousands (`1.234` and `1,234` are 1234; `0,500` is a decimal);
    otherwise it is the decimal separator (`12,5` is 12.50).
    """
    m = re.fullmatch(_MONEY, " ".join(text.replace("\u2212", "-").split()))
    if not m or (m["s1"] and m["s2"]) or (m["c1"] and m["c2"]):
        raise Invalid(field, f"cannot read {_q(text)} as an amount ({_MONEY_HINT})")
    plain = _plain_number(m["num"])
    if plain is None or (m["dash"] and "." in plain):
        raise Invalid(field, f"cannot read {_q(text)} as an amount ({_MONEY_HINT})")
    whole, _, frac = plain.partition(".")
    if len(frac) > 2:
        raise Invalid(field, f"{_q(text)} has more than 2 decimal places (money is kept in "
                             "whole cents)")  # fmt: skip
    if len(whole.lstrip("0")) > 13:
        raise Invalid(field, f"{_q(text)} is too large an amount")
    value = Decimal(plain).quantize(Decimal("0.01"))
    return -value if "-" in (m["s1"], m["s2"]) and value else value


def parse_money_cents(text: str, *, field: str = "amount") -> int:
    """Read an amount of money as integer cents (see parse_money)."""
    return int(parse_money(text, field=field) * 100)


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def format_money(cents: int | None, currency: str = "EUR", *, german: bool = True) -> str:
    """Money for people: `1.234,50 €` (German) or `€1,234.50`; "" for None."""
    if cents is None:
        return ""
    sign, (whole, frac) = "-" if cents < 0 else "", divmod(abs(cents), 100)
    symbol = _SYMBOLS.get(currency) or _SYMBOLS.get(currency.upper(), currency.upper())
    if german:
        return f"{sign}{whole:,}".replace(",", ".") + f",{frac:02d} {symbol}"
    return f"{sign}{symbol}{'' if len(symbol) == 1 else ' '}{whole:,}.{frac:02d}"


def cents_money(cents: int | None) -> Decimal | None:
    """Integer cents as the Decimal amount reports carry (`123450` is 1234.50); None for
    None."""
    return None if cents is None else Decimal(cents).scaleb(-2)


def money_str(cents: int | None) -> str | None:
    """Plain decimal string for JSON and CSV (`1234.50`, `-5.00`); None for None."""
    if cents is None:
        return None
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{frac:02d}"


def parse_percent_bp(text: str, *, field: str, most: int = 10_000) -> int:
    """A percentage as basis points (`19` and `19 %` are 1900, `5,5%` 550, `2.25` 225), at
    most two decimal places, from 0 to `most` (100 % unless said otherwise)."""
    plain = " ".join(text.split()).removesuffix("%").strip().replace(",", ".")
    if re.fullmatch(r"(?a)\d{1,5}\.\d{3,}", plain):
        raise Invalid(field, f"{_q(text)} has more than 2 decimal places (a percentage is "
                             "kept to 0,01 %, e.g. 33,33 %)")  # fmt: skip
    if not re.fullmatch(r"(?a)\d{1,5}(\.\d{1,2})?", plain):
        raise Invalid(field, f"cannot read {_q(text)} as a percentage (try 19, 7 %, 5,5 %)")
    bp = int(Decimal(plain) * 100)
    if bp > most:
        raise Invalid(field, f"{_q(text)} is more than {format_percent_bp(most)}")
    return bp


def format_percent_bp(bp: int) -> str:
    """Basis points as a German percentage: 1900 -> `19 %`, 550 -> `5,5 %`."""
    whole, frac = divmod(bp, 100)
    return f"{whole}" + (f",{frac:02d}".rstrip("0") if frac else "") + " %"


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero to a whole number (cents), exact."""
    q, r = divmod(abs(numerator), denominator)
    q += 2 * r >= denominator
    return -q if numerator < 0 else q


# ---------------------------------------------------------------- phone and email


def parse_phone(text: str, *, region: str = "DE", field: str = "phone") -> str:
    """Read a phone number as E.164 (`+4930123456`); national numbers are in `region`.
    Checks that the number is possible (length and country), not that it is assigned,
    so made-up demo numbers pass; fewer than 5 digits are refused, and so is an international
    number that phonenumbers would store with a digit missing (`+49 0043 90427`)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        hint = "try +49 30 1234567 or 030 1234567"
        raise Invalid(field, f"cannot read {_q(text)} as a phone number ({hint})") from None
    national = phonenumbers.national_significant_number(number)
    if len(national) < 5 or not phonenumbers.is_possible_number(number):
        raise Invalid(field, f"{_q(text)} is not a possible phone number (wrong length?)")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _keeps_digits(text, number, national):
        cc = f"+{number.country_code}"
        raise Invalid(
            field,
            f"{_q(text)} would be stored as {e164}, losing digits: what follows {cc} is no "
            f"number there (a second international prefix?); type {cc} and the number "
            "without its leading 0",
        )
    return e164


def _keeps_digits(text: str, number, national: str) -> bool:
    """Whether an international number (`+49 ...`, `0049 ...`) keeps every digit typed after
    its country code, but for one written trunk 0 (`+49 (0)30 ...`). phonenumbers drops that
    0 and nothing else, so `+49 0043 90427` would become +49 043 90427: a digit eaten, and no
    German number. National input (`030 ...`) loses its trunk prefix by design."""
    from phonenumbers import CountryCodeSource, normalize_digits_only

    sources = (CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN, CountryCodeSource.FROM_NUMBER_WITH_IDD)
    if number.country_code_source not in sources:
        return True
    typed = normalize_digits_only(text).removesuffix(number.extension or "")
    head, tail = typed[: len(typed) - len(national)], typed[len(typed) - len(national) :]
    code = str(number.country_code)
    return tail == national and (
        head.endswith(code) or (head.endswith(code + "0") and not national.startswith("0"))
    )


def format_phone(e164: str | None) -> str:
    """An E.164 number in international format for display (`+49 30 123456`); "" for None,
    and anything unreadable comes back as it was."""
    if not e164:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_email(text: str, *, field: str = "email") -> str:
    """Check an email address's syntax (no DNS) and return it normalized: the domain
    lowercased, the local part kept as typed."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as e:
        reason = " ".join(str(e).split())
        raise Invalid(field, f"{_q(text)} is not a valid email address: {reason}") from None


def email_spellings(text: str) -> list[str]:
    """The lower-cased keys an email address may be stored under, to look it up: as given,
    and for an internationalised domain its Unicode form (what parse_email stores) and its
    punycode form (xn--, what older data or another program may hold): `umit@xn--mller-kva.de`
    and `umit@müller.de` find each other. Only a domain that is not plain ASCII or has an
    xn-- label costs the check."""
    key = (text or "").strip().lower()
    local, at, domain = key.rpartition("@")
    if not at or (domain.isascii() and "xn--" not in domain):
        return [key]
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(key, check_deliverability=False)
    except EmailNotValidError:
        return [key]
    out = [key]
    for other in (checked.domain, checked.ascii_domain):
        form = f"{local}@{(other or domain).lower()}"
        if form not in out:
            out.append(form)
    return out


# ---------------------------------------------------------------- text from files and pipes

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text(data: bytes) -> str:
    """Text read from stdin or an editor's file, by fixed rules: a byte order mark (UTF-8,
    UTF-16, UTF-32) says the encoding; else strict UTF-8; else cp1252, what German Windows
    mail and Excel write (Latin-1 is its subset), its five unassigned bytes as U+FFFD. Never
    lone surrogates, so the text always reaches the database."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:  # a BOM, then broken data: keep what can be read
                return data.decode(encoding, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# ---------------------------------------------------------------- search folding

_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe"})
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def fold(text: str) -> str:
    """Text for accent- and case-insensitive matching: casefolded, diacritics removed
    (`ü`->`u`, `é`->`e`, `ß`->`ss`, `ø`->`o`), whitespace collapsed to single spaces."""
    if text.isascii():  # NFKD, casefold and the letter table change no ASCII but case
        return " ".join(text.lower().split())
    # Each step works a character at a time (reordered combining marks are dropped) and maps
    # whitespace to whitespace, so the fold of the text is the folds of its words, which
    # repeat (names, streets, cities): an import folds the same words over and over. Text
    # of ASCII and the Latin letters of _LATIN_FOLD (no combining marks, no whitespace) is
    # the fold of each character: one translate (unique words such as jürgen.7@x.de
    # missed the cache of words every time).
    latin = text.translate(_LATIN_FOLD)
    if latin.isascii():
        return " ".join(latin.split())
    return " ".join(w for w in map(_fold_word, text.split()) if w)


@functools.lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", word).casefold())
    s = "".join(c for c in s if not unicodedata.combining(c)).translate(_LETTERS)
    return " ".join(s.split())


# ASCII lowercased, and each letter of Latin-1 and Latin Extended-A (U+00C0-U+017F) whose
# fold is ASCII to that fold (ß -> ss, Ø -> o, ĳ -> ij); the others (ŉ) are not in it.
_LATIN_FOLD = {c: chr(c).lower() for c in range(128)} | {
    code: folded
    for code, folded in ((c, _fold_word(chr(c))) for c in range(0xC0, 0x180))
    if folded and folded.isascii() and not any(ch.isspace() for ch in folded)
}


def fold_variants(text: str) -> str:
    """The fold of `text`, plus its German transliteration (`ü`->`ue`) when that differs,
    joined by " | ": "Jürgen Müller" -> "jurgen muller | juergen mueller"."""
    if text.isascii():  # no umlauts: the transliteration is the fold
        return fold(text)
    plain = fold(text)
    german = fold(unicodedata.normalize("NFC", text).translate(_UMLAUTS))
    return plain if german == plain else f"{plain} | {german}"


# ---------------------------------------------------------------- custom fields and durations


def parse_assignment(text: str, *, field: str = "field") -> tuple[str, str]:
    """Read `key=value` as (lowercased key, value); an empty value means "remove the field".
    The key starts with a letter and holds letters, digits, `_` and `-`."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[^\W\d_][\w-]{0,63}", key):
        raise Invalid(field, f"cannot read {_q(text)}: expected key=value, e.g. vat_id=DE123456")
    return key.lower(), value.strip()


# the words of dates, except that a bare "m" is minutes here
_DURATION_UNITS = {
    word: 60 if unit == "hours" else 1
    for word, unit in _UNITS.items()
    if unit in ("hours", "minutes")
} | {"m": 1}


MAX_DURATION = 100_000  # minutes: 69 days, longer than any call, meeting or task


def parse_duration(text: str, *, field: str = "duration") -> int:
    """Read a duration as whole minutes: `90` (minutes), `15m`, `15min`, `1h`, `1h30m`,
    `1:30`, `1,5h`, `1.5 Std`. Fractions round to the nearest minute."""
    s = fold(text)
    why = f"cannot read {_q(text)} as a duration (try 15m, 1h30m, 1:30, 90)"
    if re.fullmatch(r"(?a)\d{1,12}", s):
        exact = Decimal(s)
    elif m := re.fullmatch(r"(?a)(\d{1,12}):([0-5]\d)", s):
        exact = Decimal(int(m[1]) * 60 + int(m[2]))
    elif re.fullmatch(r"(?a)(?:\d{1,12}(?:[.,]\d{1,3})? ?[a-z]+ ?)+", s):
        exact, seen = Decimal(0), set()
        for number, unit in re.findall(r"(?a)(\d+(?:[.,]\d+)?) ?([a-z]+)", s):
            factor = _DURATION_UNITS.get(unit)
            if factor is None or factor in seen:  # "1h1h" is a typo, not two hours
                raise Invalid(field, why)
            seen.add(factor)
            exact += Decimal(number.replace(",", ".")) * factor
    else:
        raise Invalid(field, why)
    minutes = int(exact.to_integral_value(ROUND_HALF_UP))
    if minutes <= 0:
        raise Invalid(field, f"{_q(text)} is not longer than zero")
    if minutes > MAX_DURATION:
        raise Invalid(
            field,
            f"{_q(text)} is out of range (a duration runs from 1 minute to "
            f"{format_duration(MAX_DURATION)}, {MAX_DURATION:,} minutes)",
        )
    return minutes


def format_duration(minutes: int | None) -> str:
    """Minutes as `h:mm` (`1:30`, `0:15`); "" for None."""
    if minutes is None:
        return ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else ''}{hours}:{rest:02d}"


# ---------------------------------------------------------------- recurrence

_FREQ_WORDS = {
    "DAILY": "daily taglich taeglich",
    "WEEKLY": "weekly wochentlich woechentlich",
    "MONTHLY": "monthly monatlich",
    "YEARLY": "yearly annually jahrlich jaehrlich",
}
_FREQ_OF = {word: freq for freq, words in _FREQ_WORDS.items() for word in words.split()}
_FREQ_OF_UNIT = {"days": "DAILY", "weeks": "WEEKLY", "months": "MONTHLY", "years": "YEARLY"}
_RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WORKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
_EVERY_HINT = "try weekly, 2 weeks, monatlich, weekdays, FREQ=MONTHLY;BYDAY=1MO"


def _check_rule(rule: str, text: str, field: str) -> str:
    """`rule` if dateutil reads it as a usable daily-or-slower rule, else Invalid."""
    from dateutil.rrule import rrulestr

    parts = dict(p.partition("=")[::2] for p in rule.split(";") if p)
    freq, interval = parts.get("FREQ"), parts.get("INTERVAL", "1")
    if "DTSTART" in rule:
        raise Invalid(field, f"{_q(text)} must not set DTSTART; the due date starts the series")
    if freq not in _FREQ_WORDS:
        raise Invalid(field, f"{_q(text)} needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY")
    if not (interval.isdigit() and 1 <= int(interval) <= 999):
        raise Invalid(field, f"{_q(text)} needs an INTERVAL from 1 to 999")
    if "COUNT" in parts and "UNTIL" in parts:  # RFC 5545: one or the other
        raise Invalid(field, f"{_q(text)} gives COUNT and UNTIL; keep one")
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1), ignoretz=True)  # reads it, finds nothing
        occurs = _days_exist(rule) and _occurs(parts)
    except (ValueError, TypeError, OverflowError) as e:
        reason = " ".join(str(e).split())
        raise Invalid(field, f"cannot read {_q(text)} as a recurrence rule: {reason}") from None
    if not occurs:
        raise Invalid(field, f"{_q(text)} never occurs (no date matches it)")
    return rule


# The Gregorian calendar repeats every 400 years (146,097 days, exactly 20,871 weeks), and
# dateutil gives up on a rule at the year 9999: a rule started in 9600 finds its first day
# by then or never will, after at most 400 years of periods.
_CYCLE_START = datetime(9600, 1, 1)


def _occurs(parts: dict[str, str]) -> bool:
    """Whether the rule occurs at all, whatever its start: with INTERVAL 1 (which visits
    every period) and no end, from 9600."""
    from dateutil.rrule import rrulestr

    free = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("INTERVAL", "COUNT", "UNTIL"))
    return next(iter(rrulestr(free, dtstart=_CYCLE_START, ignoretz=True)), None) is not None


_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYEASTER", "WKST")
_ALL_MONTHS = ",".join(map(str, range(1, 13)))


@functools.lru_cache(maxsize=64)
def _days_exist(rule: str) -> bool:
    """Whether any day at all passes the rule's BY filters, found in milliseconds.

    dateutil looks for an occurrence period by period up to the year 9999 and only then gives
    up: 3 million days, 3 to 6 seconds, for FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30. The same
    filters as a yearly rule cover the same days, and a yearly rule from 9600 has found one
    by 9999 (400 steps) or there is none.
    Ordinals in BYDAY are read as the rule reads them: ignored by DAILY and WEEKLY, counted
    within the month by MONTHLY (which BYMONTH keeps them to)."""
    from dateutil.rrule import rrulestr

    parts = dict(p.partition("=")[::2] for p in rule.upper().split(";") if p)
    kept = {key: value for key, value in parts.items() if key in _DAY_PARTS}
    if not kept.keys() - {"WKST"}:
        return True
    freq, byday = parts.get("FREQ"), kept.get("BYDAY", "")
    if freq in ("DAILY", "WEEKLY"):
        kept["BYDAY"] = re.sub(r"[+-]?\d+", "", byday)
    elif freq == "MONTHLY" and re.search(r"\d", byday):
        kept.setdefault("BYMONTH", _ALL_MONTHS)
    yearly = ";".join(["FREQ=YEARLY", *(f"{k}={v}" for k, v in kept.items() if v)])
    return next(iter(rrulestr(yearly, dtstart=_CYCLE_START, ignoretz=True)), None) is not None


def parse_every(text: str, *, field: str = "every") -> str:
    """Read a recurrence as an RFC 5545 RRULE without the "RRULE:" prefix: `daily`,
    `wöchentlich`, `2 weeks`, `every 2 weeks`, `alle 3 Monate`, `every monday`,
    `weekdays`/`werktags`, or a raw rule like `FREQ=MONTHLY;BYDAY=1MO` (UNTIL and COUNT
    allowed, DTSTART not; UNTIL is read as local wall time)."""
    s = fold(text)
    if s in _FREQ_OF:
        return f"FREQ={_FREQ_OF[s]};INTERVAL=1"
    if s in ("weekdays", "workdays", "werktags", "werktaglich", "werktaeglich"):
        return _WORKDAYS
    m = re.fullmatch(r"(?:every|alle|jede[nmrs]?) ([a-z]+)|([a-z]{4,})s", s)
    if m and (day := _WEEKDAYS.get(m[1] or m[2])) is not None:
        return f"FREQ=WEEKLY;BYDAY={_RRULE_DAYS[day]}"
    m = re.fullmatch(r"(?a)(?:(?:every|alle|jede[nmrs]?) )?(?:(\d{1,3}) ?)?([a-z]+)", s)
    unit = _UNITS.get(m[2]) if m and (m[1] or s != m[2]) else None  # not a bare "weeks"
    if m and (freq := _FREQ_OF_UNIT.get(unit or "")) and int(m[1] or 1) > 0:
        return f"FREQ={freq};INTERVAL={int(m[1] or 1)}"
    rule = "".join(text.split()).upper().removeprefix("RRULE:").strip(";")
    if "=" not in rule:
        raise Invalid(field, f"cannot read {_q(text)} as a recurrence ({_EVERY_HINT})")
    return _check_rule(rule, text, field)


def next_occurrence(
    rule: str, after_local: datetime, *, start: datetime | None = None
) -> datetime | None:
    """The first occurrence of `rule` strictly after `after_local`, as an aware local
    datetime, or None when the rule has ended. The series starts at `start` (default:
    `after_local`, so COUNT counts from there). Computed on the local wall clock, so a
    weekly 09:00 task stays at 09:00 across DST. A monthly series from the 29th-31st falls on
    the last day of a shorter month, a yearly one from 29 February on the 28th in other
    years (see _month_end); a rule naming its days (BYMONTHDAY=31) keeps RFC 5545's skipping."""
    from dateutil import tz
    from dateutil.rrule import rrulestr

    zone = local_tz()

    def wall(dt: datetime) -> datetime:
        return (dt.astimezone(zone) if dt.tzinfo else dt).replace(tzinfo=None)

    if not _days_exist(rule):  # stored before parse_every refused such rules
        return None
    after, first = wall(after_local), wall(start or after_local)
    rule = _month_end(rule, first)
    series = rrulestr(rule, dtstart=first, ignoretz=True)
    count = re.search(r"(?:^|;)COUNT=(\d+)", rule.upper())
    if count and series.after(first, inc=True) != first:
        # RFC 5545 counts DTSTART as the first occurrence even when the rule would not
        # produce it; dateutil does not, so one occurrence fewer is left for the rule.
        left = int(count[1]) - 1
        if left < 1:
            return None
        series = rrulestr(
            re.sub(r"COUNT=\d+", f"COUNT={left}", rule, flags=re.I), dtstart=first, ignoretz=True
        )
    found = series.after(after, inc=False)
    return None if found is None else tz.resolve_imaginary(found.replace(tzinfo=zone))


_PLAIN_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYMONTH"}


def _month_end(rule: str, start: datetime) -> str:
    """`rule`, made to keep a series from the 29th-31st in every month.

    RFC 5545 takes the day of a plain monthly rule from its start and skips the months
    without that day: from 31 January, February, April, June, September and November would
    get no occurrence, and a yearly rule from 29 February would meet only leap years. What a
    person means by "monthly from the 31st" is the month's last day where there is no 31st:
    BYMONTHDAY=28,...,31;BYSETPOS=-1 (the last of those days the month has), the same as the
    start's day where the month has it. Only plain rules change (FREQ, INTERVAL, COUNT, UNTIL,
    WKST, and BYMONTH, for a yearly rule one month): one that names days or positions says
    what it wants."""
    parts = dict(p.partition("=")[::2] for p in rule.upper().split(";") if p)
    freq, months = parts.get("FREQ"), [m for m in parts.get("BYMONTH", "").split(",") if m]
    if start.day < 29 or not set(parts) <= _PLAIN_PARTS or freq not in ("MONTHLY", "YEARLY"):
        return rule
    added = []
    if freq == "YEARLY":
        if len(months) > 1:
            return rule  # a set position per year would keep one month's day only
        if not months:
            added.append(f"BYMONTH={start.month}")
    added.append(f"BYMONTHDAY={','.join(str(d) for d in range(28, start.day + 1))}")
    return ";".join([rule.rstrip(";"), *added, "BYSETPOS=-1"])


def describe_every(rule: str) -> str:
    """A short human text for a rule ("weekly", "every 2 weeks", "weekly on MO",
    "weekdays"); the rule itself when it is more than that."""
    parts = dict(p.partition("=")[::2] for p in rule.upper().split(";") if p)
    freq, interval, byday = parts.get("FREQ"), parts.get("INTERVAL", "1"), parts.get("BYDAY")
    simple = set(parts) <= {"FREQ", "INTERVAL", "BYDAY"} and interval.isdigit()
    if not simple or freq not in _FREQ_WORDS or (byday and freq != "WEEKLY"):
        return rule
    if byday == "MO,TU,WE,TH,FR" and interval == "1":
        return "weekdays"
    unit = {"DAILY": "days", "WEEKLY": "weeks", "MONTHLY": "months", "YEARLY": "years"}[freq]
    text = freq.lower() if interval == "1" else f"every {int(interval)} {unit}"
    return f"{text} on {byday}" if byday else text


_CADENCE_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 30, "YEARLY": 365}


def parse_cadence(text: str, *, field: str = "every") -> int:
    """A stay-in-touch cadence as days: `30 days`, `2 weeks`, `monthly` (30), `quarterly`
    (90), `alle 3 Monate`; anything `parse_every` reads without BYDAY-style detail."""
    if fold(text) in ("quarterly", "vierteljahrlich", "vierteljaehrlich"):
        return 90
    try:
        rule = parse_every(text, field=field)
    except Invalid:  # its hint names task rules (weekdays, BYDAY): not what a cadence takes
        raise Invalid(
            field,
            f"cannot read {_q(text)} as a stay-in-touch interval (try 30 days, 2 weeks, "
            "monthly, quarterly, alle 3 Monate)",
        ) from None
    parts = dict(p.partition("=")[::2] for p in rule.split(";"))
    if set(parts) - {"FREQ", "INTERVAL"}:
        raise Invalid(field, f"{_q(text)}: a cadence is a plain interval such as 30 days")
    return _CADENCE_DAYS[parts["FREQ"]] * int(parts.get("INTERVAL", "1"))


def describe_cadence(days: int | None) -> str:
    """`every 30 days`, `every 2 weeks`; "" for None."""
    if not days:
        return ""
    if days % 7 == 0 and days < 364:
        weeks = days // 7
        return "weekly" if weeks == 1 else f"every {weeks} weeks"
    return "daily" if days == 1 else f"every {days} days"


_IRREGULAR_PLURALS = {"person": "people", "is": "are", "has": "have"}


def plural(n: int, noun: str) -> str:
    """A count with its noun in the right number: `1 task`, `2 tasks`, `3 activities`."""
    return f"{n:,} {noun if n == 1 else plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The English plural of a noun as crm's messages use them (task, activity, company)."""
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


# Words that say what kind of company it is, not which: "Müller Bau GmbH" and "Mueller Bau"
# are the same firm to a person looking for duplicates.
_LEGAL_FORMS = frozenset(
    ("gmbh", "mbh", "ag", "kg", "ohg", "ug", "gbr", "ev", "eg", "se", "kgaa", "co", "cokg",
     "haftungsbeschrankt", "ltd", "inc", "llc", "plc", "corp", "sa", "sarl", "bv", "nv")
)  # fmt: skip


def sound_key(name: str | None, *, company: bool = False) -> str | None:
    """How a name sounds in German (Kölner Phonetik, per word, the codes sorted so that word
    order does not matter): Meier, Maier and Meyer meet, and so do Müller and Mueller.
    `company` drops legal forms (GmbH, AG, & Co. KG). None when nothing is left to compare."""
    from cologne_phonetics import encode

    words = fold(name or "").replace("&", " ").replace(".", " ").split()
    if company:
        words = [w for w in words if w not in _LEGAL_FORMS]
    codes = sorted(code for _, code in encode(" ".join(words)) if code) if words else []
    return " ".join(codes) or None


# The kinds of a contact's emails and phones (models.EMAIL_KINDS) by the words people use for
# them, English and German, folded: `work:jm@firma.de`, `privat:...`, `handy:0171 1234567`.
ADDRESS_KINDS = ("work", "home", "mobile", "other")
_KIND_WORDS = {
    "work": ("work", "arbeit", "geschaftlich", "geschaeftlich", "dienstlich", "buro", "buero",
             "bureau", "office", "business", "firma"),
    "home": ("home", "privat", "private", "personal", "zuhause", "zu hause", "daheim"),
    "mobile": ("mobile", "mobil", "handy", "cell", "cellphone", "mobiltelefon", "funk"),
    "other": ("other", "sonstige", "sonstiges", "andere", "anderes", "weitere"),
}  # fmt: skip
KIND_WORDS = {fold(w): kind for kind, words in _KIND_WORDS.items() for w in words}
# URI schemes that may stand before an address (mailto:a@b.de, tel:+4930...): no kind.
_SCHEMES = ("mailto", "tel", "sip")
_KIND_PREFIX = re.compile(r"\s*([^\W\d_][^\W\d_ ]*(?: [^\W\d_]+)?)\s*:\s*(.*)", re.DOTALL)


def address_kind(word: str, *, field: str = "kind") -> str:
    """The kind (work, home, mobile, other) a word names, English or German (arbeit,
    geschäftlich, dienstlich, privat, mobil, handy, sonstige, andere); Invalid otherwise."""
    kind = KIND_WORDS.get(fold(word or ""))
    if kind is None:
        raise Invalid(
            field, f"unknown kind {_q(word)} (choose {', '.join(ADDRESS_KINDS)}, or in German "
            "arbeit, privat, mobil/handy, sonstige)",
        )  # fmt: skip
    return kind


def parse_kinded(text: str, *, field: str = "email") -> tuple[str | None, str]:
    """An email or phone as typed with an optional kind in front, `KIND:VALUE`
    (`work:jm@firma.de`, `mobil: 0171 1234567`): (kind or None, the value stripped).
    A word before a colon that is no kind is refused (a typo must not become an address),
    but for a URI scheme (mailto:, tel:), which is dropped."""
    text = (text or "").strip()
    found = _KIND_PREFIX.fullmatch(text)
    if not found or "@" in found[1]:
        return None, text
    word, rest = found[1], found[2].strip()
    if fold(word) in _SCHEMES:
        return None, rest
    return address_kind(word, field=field), rest
