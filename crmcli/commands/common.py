"""Options and helpers every command shares, so each is defined once."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

import typer

from crmcli.env import current
from crmcli.output import Format

OutputOpt = Annotated[
    Format,
    typer.Option("--output", "-o", help="table (default), json, jsonl or csv.", show_default=False),
]
# For commands that change things: stdout stays empty unless a format is asked for.
ResultOpt = Annotated[
    Format | None,
    typer.Option("--output", "-o", help="Print the result as table, json, jsonl or csv."),
]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeatable.")]
FieldOpt = Annotated[
    list[str] | None,
    typer.Option("--field", "-f", metavar="KEY=VALUE", help="A custom field; repeatable."),
]
# Counts a database can take (SQLite and PostgreSQL integers are 64-bit): a larger number is a
# usage error with the range, not an overflow deep in the driver.
MAX_ROWS = 1_000_000_000
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=0,
        max=MAX_ROWS,
        help="At most this many rows (0: all; a terminal shows 100).",
    ),
]
OffsetOpt = Annotated[
    int, typer.Option("--offset", min=0, max=MAX_ROWS, help="Skip this many rows.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _opt(*names: str, help: str, metavar: str | None = None):
    return Annotated[str | None, typer.Option(*names, help=help, metavar=metavar)]


# Fields of contacts and companies, shared by `add` and `edit`.
EmailOpt = _opt("--email", "-e", help="Email address (checked for syntax).")
PhoneOpt = _opt("--phone", "-p", help="Phone as typed; stored also as E.164 (default region DE).")
EmailsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--email", "-e", metavar="[KIND:]EMAIL",
        help="Email address; repeatable, the first is the primary. KIND: work, home, mobile, "
        "other (arbeit, privat, mobil, sonstige), e.g. -e privat:jm@example.de.",
    ),
]  # fmt: skip
PhonesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--phone", "-p", metavar="[KIND:]PHONE",
        help="Phone as typed (stored also as E.164, default region DE); repeatable, the first "
        "is the primary. KIND as for --email (handy, mobil...), e.g. -p 'mobil:0171 1234567'.",
    ),
]  # fmt: skip
CompanyOpt = _opt("--company", "-c", help="Company name: linked if it exists, else created.")
PositionOpt = _opt("--position", help="Job title or role.")
StreetOpt = _opt("--street", help="Street and number.")
ZipOpt = _opt("--zip", help="Postal code.")
CityOpt = _opt("--city", help="City.")
CountryOpt = _opt("--country", help="Country.")
BirthdayOpt = _opt(
    "--birthday", help="Birthday: 24.12.1980, 1980-12-24, or 24.12. without a year.", metavar="DATE"
)
StatusOpt = _opt("--status", "-s", help="lead, prospect, customer or inactive.")
SourceOpt = _opt("--source", help="Lead source: where the contact came from.")
CampaignOpt = _opt("--campaign", help="The campaign that brought it (name, id or part).")
KeywordOpt = _opt("--keyword", help="... and its keyword (a search term, utm_term).")
OwnerOpt = _opt("--owner", help="Who in your team looks after it.")
NotesOpt = _opt("--notes", help="Free text notes (searchable).")
ConsentOpt = Annotated[
    bool | None,
    typer.Option(
        "--consent/--no-consent", help="Consent to receive mailings (recorded with a date)."
    ),
]
ConsentDateOpt = _opt(
    "--consent-date",
    help="When consent was given (default: now); with --consent, or on a contact who has it.",
    metavar="WHEN",
)
EveryOpt = _opt(
    "--every",
    help="Stay in touch: remind when nobody contacted them for this long (30 days).",
    metavar="INTERVAL",
)
DomainOpt = _opt("--domain", help="Web domain, e.g. example.de.")
IndustryOpt = _opt("--industry", help="Industry or sector.")

TERMINAL_PAGE = 100
KINDS = ("contact", "company", "deal", "task", "activity", "tag")
# Kinds only some commands take (show, edit): split_kind(args, kinds=...).
SHOWN_KINDS = (*KINDS, "product", "order", "campaign")


# The commands that can do their work on a new, empty database: only they create a database
# file that does not exist yet (and say so). Any other command refuses a missing file ("no
# database at PATH"), whether it reads or would change records (a mistyped --db must not leave
# an empty database behind that answers "no contact matches" or "no task with id 3" for
# ever). Keys are the command's words after `crm`.
CREATING_COMMANDS = frozenset(
    {
        "add contact", "add company", "add task", "add product", "add campaign",
        "demo", "db migrate", "db restore",
        "stages add", "stages rename", "stages reorder", "stages remove", "import", "tui",
        "doc sender",
    }
)  # fmt: skip


def writes() -> bool:
    """Whether the running command may create its database (see CREATING_COMMANDS)."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return True
    words = ctx.command_path.split()[1:]
    return " ".join(words[:2]) in CREATING_COMMANDS or " ".join(words[:1]) in CREATING_COMMANDS


def db(*, bulk: bool = False):
    """Open (and migrate) the database for this command. A TZ that names no zone stops the
    command here, before it writes (it would fail later, when showing a time). Only a command
    that can work on an empty database creates a missing database file (CREATING_COMMANDS).
    `bulk`: a command that has SQLite read or write every row (an export, an import) turns
    SQLite's memory statistics off first (crmcli.sqlitelib)."""
    if os.environ.get("TZ"):
        from crmcli.values import local_tz

        local_tz()
    if bulk:
        bulk_sqlite()
    return current().db(create=writes())


def bulk_sqlite() -> None:
    """crmcli.sqlitelib.without_memory_statistics, before a SQLite database is opened."""
    from crmcli.db import is_postgres

    env = current()
    if not env.opened and not is_postgres(env.target):
        from crmcli.sqlitelib import without_memory_statistics

        without_memory_statistics()


@contextmanager
def import_db(dry_run: bool) -> Iterator[None]:
    """The database for an import, open while the import runs. A dry run never makes a file:
    a SQLite file that does not exist yet reads as an empty database (in memory). A real
    import that creates its file and then fails removes the file again: nothing landed in
    it, and a mistyped --db must not leave an empty database behind."""
    from crmcli.db import is_postgres, new_file, sqlite_file

    bulk_sqlite()
    env = current()
    target = env.target
    if dry_run:
        if not is_postgres(target) and "://" not in target.removeprefix("sqlite:///"):
            path = sqlite_file(target)
            if not os.path.lexists(path):
                env.db_in_memory(path)
        db()
        yield
        return
    made = new_file(target)
    env.db(create=True, announce=False)
    try:
        yield
    except BaseException as exc:
        if made is not None and not (isinstance(exc, typer.Exit) and exc.exit_code == 0):
            from crmcli.db import remove_new_file

            env.close()
            remove_new_file(made)
        raise
    if made is not None:
        sys.stderr.write(f"crm: created a new database at {made}\n")


def now() -> datetime:
    return current().now()


def today() -> date:
    """The local date of the command's clock."""
    from crmcli.values import local_tz

    return now().astimezone(local_tz()).date()


def when(text: str | None, field: str, *, prefer: str = "future") -> datetime | None:
    """A date and/or time typed for `field`. A day without a year (`24.12.`) and a bare
    weekday are the next such day; with prefer="past" (a filter looking back: --since,
    --created-since) the most recent one, today included."""
    from crmcli.values import parse_when

    return parse_when(text, now(), field=field, prefer=prefer) if text else None


def since(text: str | None, field: str) -> datetime | None:
    """The start of what a listing looks back on (--created-since): see `when`, prefer past."""
    return when(text, field, prefer="past")


def period(
    since: str | None, until: str | None, *, since_field: str = "since", until_field: str = "until"
) -> tuple[datetime | None, datetime | None]:
    """A period [since, end) typed for a listing or report, one rule in every command: an
    --until that names a day includes that day (`--since 1.11. --until 30.11.` is November,
    `--since 31.1. --until 31.1.` that one day), an --until with a time of day (`29.11.
    14:00`, `now`) is that moment, not included. Both ends look back: `1.11.` is the most
    recent 1 November, not next year's; an end without a year after a start is the first
    such day after the start."""
    from datetime import time as clock
    from datetime import timedelta

    from crmcli.values import at_local, local_tz, parse_when_ex

    start = when(since, since_field, prefer="past")
    end = None
    if until:
        after = start.astimezone(local_tz()).date() if start is not None else None
        end, has_time = parse_when_ex(until, now(), field=until_field, prefer="past", after=after)
        if not has_time:
            last = end.astimezone(local_tz()).date()
            end = at_local(last + timedelta(days=1), clock())
            if start is not None and end <= start:  # said as typed: a day, not the midnight after
                from crmcli.errors import Invalid
                from crmcli.values import format_datetime

                raise Invalid(
                    until_field,
                    f"{last.isoformat()} is before since {format_datetime(start)}: "
                    "the period would be empty",
                )
        from crmcli.services.periods import check_period

        check_period(start, end)  # every command refuses an empty period, listings too
    return start, end


def day(text: str | None, field: str) -> date | None:
    from crmcli.values import parse_date

    return parse_date(text, now(), field=field) if text else None


def assignments(items: list[str] | None) -> list[tuple[str, str]]:
    from crmcli.values import parse_assignment

    return [parse_assignment(item) for item in items or []]


def page_limit(limit: int | None, fmt: Format) -> int | None:
    """None means all rows. A person at a terminal gets one page unless they ask for more."""
    if limit == 0:
        return None
    if limit is None:
        return TERMINAL_PAGE if fmt is Format.table and current().stdout_isatty else None
    return limit


# Formats written row by row as the rows come (a table needs them all for its widths).
STREAMED = frozenset({Format.json, Format.jsonl, Format.csv})


class Counted:
    """An iterator of rows that counts them as they pass (for note_truncated), so a streamed
    list need not be held to know its length."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self._rows)
        self.count += 1
        return row


def warn_unknown_tags(names: list[str] | None) -> None:
    """Say which tags a filter names that do not exist (it then selects nobody): a typo in
    `--tag` or `--to tag:` should not look like an empty segment. Needs the database open."""
    if not names:
        return
    from crmcli.services import tags

    for name in tags.unknown_tags(names):
        warn(f"no tag '{name}' exists, so nobody has it (crm list tags shows the tags)")


def note_truncated(shown: int, offset: int, limit: int | None, total_fn) -> None:
    """On a terminal, say when a page hides more rows (counted only then)."""
    if limit is not None and shown == limit and current().stdout_isatty:
        total = total_fn()
        if total > offset + shown:
            sys.stderr.write(
                f"showing {offset + 1}-{offset + shown} of {total}; --limit 0 shows all\n"
            )


def split_kind(
    args: list[str], default: str = "contact", *, kinds: tuple[str, ...] = KINDS
) -> tuple[str, str]:
    """`show REF` or `show KIND REF`: the kind (contact by default) and the reference."""
    from crmcli.errors import Invalid

    if len(args) == 1:
        return default, args[0]
    if len(args) == 2:
        kind = args[0].lower()
        aliases = {
            "contacts": "contact", "companies": "company", "person": "contact",
            "tasks": "task", "activities": "activity", "tags": "tag", "deals": "deal",
            "products": "product", "orders": "order", "campaigns": "campaign",
        }  # fmt: skip
        kind = aliases.get(kind, kind)
        if kind not in kinds:
            raise Invalid("kind", f"unknown kind '{args[0]}' (choose {', '.join(kinds)})")
        return kind, args[1]
    raise typer.BadParameter("give REF, or KIND REF (for example: company acme)")


def confirm(question: str, *, yes: bool) -> None:
    """Ask on a terminal; refuse without one unless --yes was given."""
    from crmcli.errors import CrmError

    if yes:
        return
    if not current().stdin_isatty:
        # An error starts lower-case like every other; the question is a sentence.
        what = question.rstrip("?")
        raise CrmError(
            f"{what[:1].lower()}{what[1:]}: refusing without a terminal to ask; pass --yes"
        )
    from crmcli.output import clean

    if not typer.confirm(clean(question, newlines=True), default=False, err=True):
        raise typer.Abort()


def ask(question: str, *, default: str) -> str:
    """Ask on a terminal for a word; the question's names from the database are shown
    escaped (see output.clean), as in every message."""
    from crmcli.output import clean

    return typer.prompt(clean(question, newlines=True), default=default, err=True)


def done(text: str) -> None:
    """Tell a person what happened (stderr, so stdout stays for data); names from the database
    in it cannot send control sequences to the terminal."""
    from crmcli.output import clean

    current().say_made()  # "created a new database at X" before what the command did with it
    sys.stderr.write(clean(text, newlines=True) + "\n")


def warn(text: str) -> None:
    """A warning for a person: `crm: warning: ...` on stderr, as every command words them."""
    done(f"crm: warning: {text}")


def given(**values) -> dict:
    """The options a user actually gave (None means not given; "" means clear)."""
    return {k: v for k, v in values.items() if v is not None}


def kinded(values: list[str] | None, field: str) -> list[dict]:
    """Emails or phones as typed, `[KIND:]VALUE` each, as the contacts service takes them."""
    from crmcli.values import parse_kinded

    out = []
    for text in values or []:
        kind, value = parse_kinded(text, field=field)
        out.append({field: value, "kind": kind})
    return out


def contact_values(values: dict) -> dict:
    """Turn typed contact options into service values (dates parsed with the command's clock)."""
    out = given(**values)
    if out.get("consent") is False and out.get("consent_at"):
        from crmcli.errors import Invalid

        raise Invalid(None, "--no-consent and --consent-date contradict each other")
    if out.get("birthday"):
        from crmcli.values import parse_birthday

        out["birthday"] = parse_birthday(out["birthday"], now())
    elif "birthday" in out:
        out["birthday"] = None
    if out.get("consent_at"):
        out["consent_at"] = when(out["consent_at"], "consent-date", prefer="past")  # given
    elif "consent_at" in out:
        out["consent_at"] = None
    if "cadence_days" in out:
        from crmcli.values import parse_cadence

        out["cadence_days"] = parse_cadence(out["cadence_days"]) if out["cadence_days"] else None
    return out


def duration(text: str | None) -> int | None:
    from crmcli.values import parse_duration

    return parse_duration(text) if text else None


def message_text(message: str | None, *, what: str, empty_ok: bool = True) -> str | None:
    """The text of `-m`: as given, `-` reads stdin, none opens $EDITOR on a terminal.
    `empty_ok`: whether the record may go without text (a call may, a note may not)."""
    without = " (use -m '' to log without text)" if empty_ok else ""
    if message == "-":
        text = read_stdin().strip()
        if not text:
            from crmcli.errors import CrmError

            raise CrmError(f"no text on stdin; nothing logged{without}")
        return text
    if message is not None or not (current().stdin_isatty and current().stdout_isatty):
        return message
    text = edit_in_editor(
        f"\n# Write the {what} above. Lines starting with # are ignored;\n"
        "# an empty text aborts, as with git commit.\n"
    )
    if text is None:
        from crmcli.errors import CrmError

        raise CrmError(f"empty text; nothing logged{without}")
    return text


def read_stdin() -> str:
    """All of stdin as text: read as bytes and decoded by values.decode_text (a Latin-1 or
    cp1252 pipe, or one with a BOM, reads as what it says), whatever Python's locale."""
    from crmcli.values import decode_text

    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text-only stdin (some test runners): already decoded
        return sys.stdin.read()
    return decode_text(buffer.read())


def edit_in_editor(template: str) -> str | None:
    """Open $VISUAL or $EDITOR (else vi) on a private temporary file, like git commit does."""
    import os
    import shlex
    import subprocess
    import tempfile

    from crmcli.errors import CrmError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, path = tempfile.mkstemp(prefix="crm-", suffix=".txt")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(template)
        try:
            status = subprocess.call([*shlex.split(editor), path])
        except OSError as exc:
            raise CrmError(f"cannot run editor '{editor}': {exc.strerror}") from exc
        if status != 0:
            raise CrmError(f"editor '{editor}' exited with status {status}; nothing logged")
        from crmcli.values import decode_text

        with open(path, "rb") as fh:  # the editor may save Latin-1/cp1252 or UTF-16
            text = decode_text(fh.read())
        lines = [ln for ln in text.splitlines() if not ln.lstrip("\ufeff").startswith("#")]
    finally:
        os.unlink(path)
    return "\n".join(lines).strip() or None


def contact_and_company(contact: str | None, company: str | None) -> dict:
    """`contact_id` and `company_id` filters from the REFs a list command was given."""
    from crmcli.services import companies, contacts

    found = {}
    if contact:
        found["contact_id"] = contacts.resolve_contact(contact)
    if company:
        found["company_id"] = companies.resolve_company(company)
    return found


class Progress:
    """A progress line on stderr for work that takes more than a second (imports): only on a
    terminal. Called with how many `unit`s are done so far; `stop()` takes it away."""

    def __init__(self, what: str, unit: str = "rows"):
        self.what, self.unit = what, unit
        self.start = time.monotonic()
        self.bar = None
        self.task = None
        self.enabled = sys.stderr.isatty()

    def __call__(self, rows: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn(f"{{task.completed:,}} {self.unit}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                auto_refresh=False,  # drawn on each progress call: no refresh thread
            )
            self.bar.start()
            self.task = self.bar.add_task(self.what)
        self.bar.update(self.task, completed=rows, refresh=True)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def output_file(path: str, option: str = "output") -> tuple[str, bool]:
    """Where a command writes FILE (`--output`, `--rejects`): the file to put in place,
    and whether to write it atomically (a temporary file beside it, renamed over it). A
    symbolic link is followed (the file it names is replaced, the link stays: a calendar
    app may be subscribed to either); a FIFO, a terminal or a device such as /dev/null or
    /dev/stdout is written into as it is (a rename would put a plain file in its place).
    A directory, a missing directory and the database crm has open are refused."""
    import stat

    from crmcli.db import is_postgres, sqlite_file
    from crmcli.errors import Invalid

    if not path.strip():
        raise Invalid(option, "give a file name")
    try:
        mode = os.stat(path).st_mode  # through any link: /dev/stdout may name a pipe
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise Invalid(option, f"{path} is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        return os.path.abspath(path), False  # opened by its own name: the kernel follows it
    target = os.path.realpath(os.path.abspath(path))
    database = current().target
    if not is_postgres(database) and "://" not in database.removeprefix("sqlite:///"):
        db_file = os.path.realpath(sqlite_file(database))
        if target in (db_file, *(db_file + end for end in ("-wal", "-shm", "-journal"))):
            raise Invalid(option, f"{path} is the database crm works on; give another name")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise Invalid(option, f"{path}: no such directory {directory}")
    return target, True


def temporary_beside(target: str, path: str):
    """A private temporary file (mode 0600) in `target`'s directory: (fd, its name). An
    error names `path`, the file the user gave, not the temporary one."""
    import tempfile

    from crmcli.errors import CrmError

    try:
        return tempfile.mkstemp(
            dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise CrmError(f"{path}: {exc.strerror or exc}") from exc
