"""The `crm` command: the root group, global options and the one place errors become exit codes.

Only typer is imported at start-up; each command imports services (and with them peewee) when it
runs, so `crm --help` and shell completion stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

# Plain help and errors everywhere (no rich boxes when piped, no rich import for --help):
# typer reads this when it is imported.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402
from typer.core import TyperGroup

from crmcli import __version__
from crmcli.commands import helptext
from crmcli.env import Env, check_settings, current, install

helptext.install()  # --help layout: option names whole, NAME not {name}, no noise ranges


def _fail(text: str, code: int) -> None:
    from crmcli.output import clean

    # Always one line: driver messages (PostgreSQL's DETAIL: lines) are folded here, once;
    # a name from the database in it cannot send control sequences to the terminal.
    sys.stderr.write(f"crm: error: {clean(' '.join(str(text).split()))}\n")
    sys.exit(code)


def _reader_gone() -> None:
    """stdout's reader closed the pipe: point stdout at devnull so that the flush at
    interpreter exit cannot fail again (as Python's documentation on SIGPIPE advises)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a file (tests)
        pass


def _os_error_message(exc: OSError) -> str:
    """One line for an OSError that reached the edge: the file it is about and the system's
    words for it. Without a file name it was writing stdout (a full disk, `> /dev/full`, an
    I/O error): stdout is pointed at devnull so that the flush at exit cannot fail again."""
    import errno

    why = exc.strerror or str(exc)
    if exc.filename is not None:
        name = os.fsdecode(exc.filename)
        if exc.filename2 is not None:
            name += f" -> {os.fsdecode(exc.filename2)}"
        return f"{name}: {why}"
    if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EROFS):
        _reader_gone()
        return f"cannot write output: {why}"
    return why


def _negative_number(exc, args: list[str]) -> str | None:
    """The argument behind click's "No such option: -3" when it is a negative number (-30,
    -1,5): click reads it as option -3 with a value, which says nothing useful."""
    import re

    from typer._click import exceptions as click_exc

    if not isinstance(exc, click_exc.NoSuchOption) or not re.fullmatch(r"-\d", exc.option_name):
        return None
    found = [a for a in args if a.startswith(exc.option_name) and re.fullmatch(r"-\d[\d.,]*", a)]
    return found[0] if found else None


def _check_arguments(args: list[str]) -> None:
    """Arguments that are not valid UTF-8 (Python keeps their bytes as surrogates) are a usage
    error here, not an encoding error when they reach the database."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            _fail(f"argument '{shown}' is not valid UTF-8 (check your terminal's encoding)", 2)


# Every command, in the order `crm --help` lists them: (module in crmcli.commands, the Typer
# app or function there, short help). Modules are imported only when their command runs, so
# `crm --help`, completion and each command pay only for what they use.
COMMANDS = {
    "add": (
        "add",
        "app",
        "Create a contact, company, deal, task, product, order, campaign, cost or commission.",
    ),
    "log": (
        "timeline",
        "log",
        "Record a call, email, meeting, complaint or other interaction.",
    ),
    "list": (
        "listing",
        "app",
        "List contacts, companies, deals, tasks, activities, tags, products, orders, "
        "campaigns or commissions.",
    ),
    "show": (
        "show",
        "show",
        "Show a contact, company, deal, task, activity, tag, product, order or campaign.",
    ),
    "edit": (
        "edit",
        "edit",
        "Change a contact, company, deal, task, activity, tag, product, order or campaign.",
    ),
    "delete": (
        "delete",
        "delete",
        "Delete a contact, company, deal, task, activity, tag or campaign.",
    ),
    "tag": ("tagging", "tag", "Add tags to a contact or company."),
    "untag": ("tagging", "untag", "Remove tags from a contact or company."),
    "search": ("search", "search", "Search contacts, companies, deals and activity text."),
    "query": ("query", "query", "Complete email addresses for mutt, neomutt and aerc."),
    "done": ("tasks", "done", "Finish a task (a recurring one spawns its next)."),
    "snooze": ("tasks", "snooze", "Postpone a task."),
    "reopen": ("tasks", "reopen", "Reopen a done task, a resolved complaint or a closed deal."),
    "resolve": ("timeline", "resolve", "Mark an inquiry, complaint or return as resolved."),
    "move": ("deals", "move", "Move a deal to another stage of the sales process."),
    "won": ("deals", "won", "Mark a deal as won."),
    "lost": ("deals", "lost", "Mark a deal as lost, with the reason."),
    "stages": ("deals", "stages_app", "List or change the stages of the sales process."),
    "report": (
        "report",
        "app",
        "Reports: sales funnel, pipeline, sales, customer value, CLV, RFM, VAT, service, ROI, "
        "commissions.",
    ),
    "dedupe": ("merging", "dedupe", "Find contacts or companies that are probably duplicates."),
    "merge": ("merging", "merge", "Merge duplicate contacts or companies into one."),
    "remind": ("remind", "remind", "What is due or overdue, each occurrence once (for cron)."),
    "consent": ("consent", "consent", "Show or record a contact's consent to mailings."),
    "mail": ("mail", "mail", "Send a mail template to the contacts of a segment who consented."),
    "import": (
        "importing",
        "app",
        "Import contacts, tasks and more from CSV, vCard, iCalendar or JSON files.",
    ),
    "export": (
        "exporting",
        "app",
        "Export contacts, companies, deals, activities, tasks or everything.",
    ),
    "doc": (
        "documents",
        "app",
        "Documents from templates: offers, letters, order confirmations, contracts (PDF).",
    ),
    "tui": ("tui", "tui", "Open the full-screen CRM (contacts, tasks, pipeline, reports)."),
    "demo": ("demo", "demo", "Fill a database with German sample data."),
    "db": ("database", "app", "Check, upgrade and back up the database."),
}


def short_help(text: str | None) -> str:
    """A command's line in its group's list: the first sentence of its help, whole (click
    would cut it at 45 characters, a docstring's first line mid-sentence)."""
    import re

    paragraph = " ".join((text or "").strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]


# What people type from other tools, and the command crm has for it.
ALIASES = {
    "ls": "list", "rm": "delete", "del": "delete", "remove": "delete", "new": "add",
    "create": "add", "find": "search", "grep": "search", "view": "show", "get": "show",
    "info": "show", "card": "show", "update": "edit", "set": "edit", "modify": "edit",
    "finish": "done", "complete": "done", "note": "log", "call": "log", "postpone": "snooze",
    "check": "db", "backup": "db", "stats": "report", "reports": "report", "reminders": "remind",
    "contact": "contacts", "company": "companies", "deal": "deals", "task": "tasks",
    "activity": "activities", "tag": "tags", "contacts": "contact", "companies": "company",
    "deals": "deal", "tasks": "task",
}  # fmt: skip


def suggest(word: str, names: list[str]) -> str | None:
    """The command someone who typed `word` most likely meant: a known alias, a unique
    prefix, else a close spelling (strict enough that `ls` does not suggest `lost`)."""
    from difflib import get_close_matches

    word = word.lower()
    if ALIASES.get(word) in names:
        return ALIASES[word]
    starting = [n for n in names if n.startswith(word)]
    if len(word) >= 2 and len(starting) == 1:
        return starting[0]
    swapped = [n for n in names if sorted(n) == sorted(word)]  # lsit, shwo: letters swapped
    if len(swapped) == 1:
        return swapped[0]
    matches = get_close_matches(word, names, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _did_you_mean(group, ctx, args, resolve):
    from typer._click import exceptions as click_exc

    try:
        return resolve(ctx, args)
    except click_exc.UsageError as exc:
        match = suggest(args[0], list(group.list_commands(ctx))) if args else None
        if match:
            exc.message = f"{exc.message.rstrip('.')}. Did you mean {match!r}?"
        raise


def single_command(name: str, function):
    """A click command made from one Typer command function."""
    from typer.main import get_command

    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    # A command may bring its own click class (`--where` reads the list filters itself).
    single.command(name, cls=getattr(function, "command_class", None))(function)
    command = get_command(single)
    command.name = name
    return command


class LazySubGroup(TyperGroup):
    """A group (`crm add`, `crm list`, ...) that builds only the subcommand being run:
    typer takes ~3.5 ms a command to read its signature, a lot for one `crm` call."""

    def __init__(self, name: str, app: typer.Typer):
        super().__init__(name=name, help=app.info.help, no_args_is_help=True, rich_markup_mode=None)
        self._functions = {info.name: info.callback for info in app.registered_commands}

    def list_commands(self, ctx) -> list[str]:
        return list(self._functions)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in self._functions:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = single_command(cmd_name, self._functions[cmd_name])
        return self.commands[cmd_name]

    def format_commands(self, ctx, formatter) -> None:
        rows = [(n, short_help(f.__doc__)) for n, f in self._functions.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx, args):
        return _did_you_mean(self, ctx, args, self._click_resolve_command)


def load_command(name: str):
    """The click command for `name`, built from its module on first use."""
    import importlib

    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"crmcli.commands.{module_name}"), attribute)
    if isinstance(target, typer.Typer) and target.registered_callback is not None:
        # A group that does something itself (`crm stages` lists): typer builds it whole.
        from typer.main import get_command

        command = get_command(target)
        command.name = name
        for sub in getattr(command, "commands", {}).values():
            sub.short_help = short_help(sub.help)
        return command
    if isinstance(target, typer.Typer):
        return LazySubGroup(name, target)
    return single_command(name, target)


class CrmGroup(TyperGroup):
    """Runs the command tree and turns every error into one line on stderr and an exit code."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx, formatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, spec[2]) for name, spec in COMMANDS.items()])

    def resolve_command(self, ctx, args):
        return _did_you_mean(self, ctx, args, self._click_resolve_command)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from typer._click import exceptions as click_exc

        from crmcli.errors import Ambiguous, CrmError

        _check_arguments(sys.argv[1:] if args is None else args)
        ok = False  # whether the call succeeded: a database file it made stays (Env.close)
        try:
            rv = super().main(
                args=args,
                prog_name=prog_name or "crm",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            sys.stdout.flush()  # a reader gone away shows here, not at interpreter exit
            ok = not rv
        except Ambiguous as exc:
            from crmcli.output import clean

            lines = [f"crm: error: {clean(str(exc))}; be more specific or use an id:"]
            lines += [
                f"  #{c.id}  {clean(c.name)}" + (f"  ({clean(c.detail)})" if c.detail else "")
                for c in exc.candidates
            ]
            if exc.total is None:
                lines.append("  … and more")
            elif exc.total > len(exc.candidates):
                lines.append(f"  … and {exc.total - len(exc.candidates)} more")
            sys.stderr.write("\n".join(lines) + "\n")
            sys.exit(exc.exit_code)
        except CrmError as exc:
            if current().debug:
                raise
            from crmcli.commands.hints import cli_message

            _fail(cli_message(exc), exc.exit_code)
        except click_exc.NoArgsIsHelpError as exc:
            exc.show()  # `crm` or `crm list` alone: the help is the answer
            sys.exit(exc.exit_code)
        except click_exc.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            negative = _negative_number(exc, sys.argv[1:] if args is None else args)
            if negative is not None:
                _fail(
                    f"{negative} is read as an option (it starts with -): a negative number "
                    f"goes after --, as in -- {negative}",
                    exc.exit_code,
                )
            _fail(exc.format_message() + hint, exc.exit_code)
        except click_exc.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except typer.Abort:
            sys.stderr.write("crm: aborted\n")
            sys.exit(1)
        except BrokenPipeError:
            ok = True
            _reader_gone()  # crm list | head: the reader had enough, a quiet success
            sys.exit(0)
        except SystemExit as exc:
            # typer meets a closed pipe first (while printing help or a command's output):
            # it wraps stdout to pacify the flush and exits 1; for crm that is a success.
            if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
                ok = True
                _reader_gone()
                sys.exit(0)
            ok = exc.code in (None, 0)
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:  # after BrokenPipeError: stdout on a full disk, a file's error
            if current().debug:
                raise
            _fail(_os_error_message(exc), 1)
        except Exception as exc:
            if current().debug:
                raise
            if isinstance(exc, UnicodeDecodeError) or "Could not decode to UTF-8" in str(exc):
                _fail(
                    "the database holds text that is not UTF-8 (written by another program; "
                    "crm writes only UTF-8): crm cannot read it",
                    1,
                )
            if type(exc).__module__ == "peewee":  # locked, disk full, read-only file...
                if "database is locked" in str(exc):  # the busy timeout ran out: say whose
                    from crmcli.db import BUSY_TIMEOUT_MS

                    _fail(
                        "database is locked: another process kept it busy for more than "
                        f"{BUSY_TIMEOUT_MS / 1000:g} s; nothing was changed, try again",
                        1,
                    )
                _fail(f"database: {exc}", 1)
            if isinstance(exc, OverflowError):  # a number past what the database holds
                _fail(f"a number is out of range ({exc})", 1)
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
        finally:
            current().close(failed=not ok)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


app = typer.Typer(
    cls=CrmGroup,
    name="crm",
    help="A terminal-first CRM: contacts, companies and everything that happens with them.",
    epilog="Database: --db, else $CRM_DB, else a file in your data directory. "
    "Docs and examples: crm COMMAND --help.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"crm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH_OR_URL",
            help="SQLite file or postgresql:// URL (default: $CRM_DB, else your data directory).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if db is not None and not db.strip():
        raise typer.BadParameter(
            "is empty: give a file path or a postgresql:// URL, or leave --db out",
            param_hint="'--db'",
        )
    check_settings()
    install(Env(db_option=db, debug=debug))


def main() -> None:
    """The `crm` console script (crmcli.launch.main does the same, earlier in start-up)."""
    from crmcli.startup import prepare

    prepare(sys.argv[1:])
    app()
