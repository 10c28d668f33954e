"""Templates for documents and mailings: found by name, parsed, rendered in Jinja2's sandbox.

A template of a kind (`doc`, `mail`) is a file in the user's `templates/KIND/` folder of
crmcli's config directory (`CRM_CONFIG_DIR`, else the platform's, see config_dir) or among the
built-in ones (crmcli/templates/KIND/); the user's wins over a built-in one of the same name.
`NAME.jinja` holds a text part and an HTML part in one file:

    ---
    title: Angebot
    subject: Ihr Angebot {{ deal.title }}
    ---
    Text (Markdown) part, Jinja2 ...
    --- html ---
    <p>HTML part ...</p>

The `---` block at the top is the front matter: one `key: value` a line (strings; quotes
around a value are taken off; `#` starts a comment line). A line `--- html ---` starts the
HTML part, `--- text ---` the text part (the text part is the default). Without a NAME.jinja,
`NAME.md` or `NAME.txt` is the text part and `NAME.html` the HTML part, either or both, each
file with front matter if it wants (the two may not disagree). Names starting with `_` are
layouts and pieces other templates include; lists leave them out.

Rendering runs in `ImmutableSandboxedEnvironment` with `StrictUndefined`: a template reads its
data and cannot change it, reach Python's internals (`__class__`, `__globals__`) or use a
variable nobody gave it; each of those, a syntax error and any other failure while rendering
is one `Invalid` naming the template, the line and what went wrong. A None prints as nothing.
HTML parts are escaped automatically, text parts only when rendered as Markdown (`render(...,
markdown=True)`: a document's text part). Filters in German: `date` (24.12.2026; `date("long")` 24.
Dezember 2026), `longdate`, `datetime` (24.12.2026 14:00), `money` (euros: 1.234,50 €),
`cents` (integer cents: 1.234,50 €), `percent` (0.19 -> 19 %), `number`, `iban`;
`paragraphs` (typed text as HTML paragraphs, its single line breaks kept).

jinja2 and babel load on first use, never when this module is imported.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crmcli.errors import Invalid, NotFound

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "templates"
# Suffixes a template file may have, in the order a name is looked up, and the part that a
# single-part file holds.
SUFFIXES = {".jinja": "text", ".md": "text", ".txt": "text", ".html": "html"}
PARTS = ("text", "html")
LOCALE = "de_DE"
_MARKER = re.compile(r"^---[ \t]+(text|html)[ \t]+---[ \t]*$")
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Largest string or list `*` and `**` may build inside a template (a typo such as
# `"-" * 10**9` must not eat the machine's memory).
MAX_SIZE = 1_000_000
# The context key that makes a render escape its values as Markdown (see render).
MARKDOWN_KEY = "_markdown"
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~]")
# At a line's start: a list item (-, +), a setext underline (=) or a numbered item (1.).
_MD_BULLET = re.compile(r"(?m)^([ \t]*)([-+=])")
_MD_NUMBERED = re.compile(r"(?m)^([ \t]*\d+)([.)])(?=\s|$)")


@dataclass
class Template:
    """A parsed template file: its front matter and the source of each part it has."""

    name: str
    path: Path
    builtin: bool
    front_matter: dict[str, str]
    text: str | None = None
    html: str | None = None
    # The file's line number where each part's source begins (error messages count from it).
    first_line: dict[str, int] = field(default_factory=dict)
    # The file each part comes from when the parts are two files (NAME.txt and NAME.html).
    part_paths: dict[str, Path] = field(default_factory=dict)
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def title(self) -> str:
        return self.front_matter.get("title") or self.name

    def part(self, part: str) -> str | None:
        if part not in PARTS:
            raise ValueError(f"no template part {part!r}")
        return self.text if part == "text" else self.html


@dataclass(frozen=True)
class TemplateInfo:
    """One template as a list shows it."""

    name: str
    title: str
    builtin: bool
    path: Path
    parts: tuple[str, ...]
    front_matter: dict[str, str]


# ---------------------------------------------------------------- finding templates


def config_dir() -> Path:
    """crmcli's configuration directory: `$CRM_CONFIG_DIR`, else the platform's place for it
    (`~/.config/crmcli` on Linux). Templates live in its `templates/` folder."""
    chosen = os.environ.get("CRM_CONFIG_DIR", "").strip()
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_config_path

    return user_config_path("crmcli", appauthor=False)


def user_template_dir(kind: str | None = None) -> Path:
    """Where a user's own templates of `kind` (`doc`, `mail`; None: the top) live."""
    base = config_dir() / "templates"
    return base / kind if kind else base


def template_dirs(kind: str | None = None) -> list[tuple[Path, bool]]:
    """The directories searched for templates of `kind`, first wins: (directory, built-in?)."""
    builtin = BUILTIN_DIR / kind if kind else BUILTIN_DIR
    return [(user_template_dir(kind), False), (builtin, True)]


def _files_in(directory: Path, name: str) -> list[Path]:
    """The files that make template `name` in `directory`: NAME.jinja alone, else a text part
    (NAME.md or NAME.txt) and an HTML part (NAME.html), either or both; [] for none."""
    jinja = directory / f"{name}.jinja"
    if jinja.is_file():
        return [jinja]
    texts = (directory / f"{name}{suffix}" for suffix in (".md", ".txt"))
    text = next((path for path in texts if path.is_file()), None)
    html = directory / f"{name}.html"
    return [path for path in (text, html) if path is not None and path.is_file()]


def find_template(name: str, kind: str | None = None) -> tuple[list[Path], bool]:
    """The files of template `name` of `kind` (the user's before the built-in ones): (files,
    built-in?). `name` may also be a template file's path (it has a `/` or a known suffix)."""
    as_path = Path(name).expanduser()
    if ("/" in name or as_path.suffix in SUFFIXES) and as_path.is_file():
        files = _files_in(as_path.parent, as_path.stem)
        return (files if as_path in files else [as_path]), False
    if _NAME.match(name) and (kind is None or _NAME.match(kind)):
        for directory, builtin in template_dirs(kind):
            found = _files_in(directory, name)
            if found:
                return found, builtin
    raise NotFound(f"no template '{name}'", template=name, kind=kind)


def list_templates(kind: str | None = None, *, include_hidden: bool = False) -> list[TemplateInfo]:
    """Every template of `kind` by name (a user's shadows the built-in one), sorted by name."""
    seen: dict[str, TemplateInfo] = {}
    for directory, builtin in template_dirs(kind):
        if not directory.is_dir():
            continue
        names = {p.stem for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file()}
        for name in sorted(names - set(seen)):
            if (name.startswith("_") and not include_hidden) or not _NAME.match(name):
                continue
            template = _from_files(name, _files_in(directory, name), builtin)
            seen[name] = TemplateInfo(
                name=name,
                title=template.title,
                builtin=builtin,
                path=template.path,
                parts=tuple(p for p in PARTS if template.part(p) is not None),
                front_matter=template.front_matter,
            )
    return [seen[name] for name in sorted(seen)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"template {path.name}", f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise Invalid(f"template {path.name}", f"cannot read {path}: {exc.strerror}") from None


def load_template(name: str, kind: str | None = None) -> Template:
    """Template `name` of `kind` (or a template file's path), parsed; NotFound when there is
    none. Parse once, render many: the template keeps what it compiled."""
    files, builtin = find_template(name, kind)
    stem = files[0].stem if "/" in name or Path(name).suffix in SUFFIXES else name
    return _from_files(stem, files, builtin)


def _from_files(name: str, files: list[Path], builtin: bool) -> Template:
    """One template from its files: one file, or a text file and an HTML file whose front
    matters may each say something, but not two different things."""
    parsed = [parse_template(_read(path), name=name, path=path, builtin=builtin) for path in files]
    if len(parsed) == 1:
        return parsed[0]
    text, html = parsed
    front = dict(text.front_matter)
    for key, value in html.front_matter.items():
        if front.setdefault(key, value) != value:
            raise Invalid(
                f"template {name}", f"'{key}' differs in {text.path.name} and {html.path.name}"
            )
    return Template(
        name=name,
        path=text.path,
        builtin=builtin,
        front_matter=front,
        text=text.text,
        html=html.html,
        first_line={**text.first_line, **html.first_line},
        part_paths={"text": text.path, "html": html.path},
    )


# ---------------------------------------------------------------- parsing


def parse_front_matter(lines: list[str], name: str) -> tuple[dict[str, str], int]:
    """The `---` block at the top of `lines`: (keys and values, lines it takes). Keys are
    lower case; a value in matching quotes loses them. Nothing else (no YAML types, tags or
    references): a template's settings are words."""
    if not lines or lines[0].rstrip() != "---":
        return {}, 0
    found: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "---":
            return found, number
        if not stripped or stripped.startswith("#"):
            continue
        match = _KEY.match(stripped)
        if match is None:
            raise Invalid(
                f"template {name}",
                f"line {number}: front matter wants 'key: value', not {stripped!r}",
            )
        key, value = match.group(1).lower(), match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key in found:
            raise Invalid(f"template {name}", f"line {number}: '{key}' is set twice")
        found[key] = value
    raise Invalid(f"template {name}", "the front matter never ends (a line of three dashes)")


def parse_template(source: str, *, name: str, path: Path, builtin: bool = False) -> Template:
    """A template's text split into front matter and parts (see the module's docstring)."""
    lines = source.splitlines(keepends=True)
    front, skip = parse_front_matter([ln.rstrip("\r\n") for ln in lines], name)
    default = SUFFIXES.get(path.suffix, "text")
    multi = path.suffix == ".jinja"
    parts: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    current = default
    for number, line in enumerate(lines[skip:], start=skip + 1):
        marker = _MARKER.match(line.rstrip("\r\n")) if multi else None
        if marker:
            current = marker.group(1)
            if current in parts:
                raise Invalid(f"template {name}", f"line {number}: a second {current} part")
            parts[current], first[current] = [], number + 1
            continue
        if current not in parts:
            parts[current], first[current] = [], number
        parts[current].append(line)
    texts = {part: "".join(body) for part, body in parts.items()}
    # A part that is only blank lines (the gap before the first marker) is no part.
    texts = {part: body for part, body in texts.items() if body.strip()}
    return Template(
        name=name,
        path=path,
        builtin=builtin,
        front_matter=front,
        text=texts.get("text"),
        html=texts.get("html"),
        first_line={part: first[part] for part in texts},
    )


# ---------------------------------------------------------------- the sandbox


_ENV: Any = None


def environment() -> Any:
    """The one sandboxed Jinja2 environment of this process (built on first use)."""
    global _ENV
    if _ENV is None:
        _ENV = _make_environment()
    return _ENV


def _make_environment() -> Any:
    from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class Loader(BaseLoader):
        """`{% include "footer.html" %}`: the html part of template `footer` (`.text` for
        the text part), looked up as any template is; `mail/footer.html` one of kind mail."""

        def get_source(self, environment, template):
            stem, _, part = template.rpartition(".")
            kind, _, base = stem.rpartition("/")
            if part not in PARTS or not base:
                raise TemplateNotFound(template)
            try:
                found = load_template(base, kind or None)
            except NotFound:
                raise TemplateNotFound(template) from None
            body = found.part(part)
            if body is None:
                raise TemplateNotFound(template)
            stamps = [_mtime(path) for path in _paths(found)]
            padded = _padded(body, found.first_line[part])
            return (
                padded,
                _filename(found, part),
                lambda: stamps == list(map(_mtime, _paths(found))),
            )

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context, operator, left, right):
            if operator == "**" and isinstance(right, int) and abs(right) > 1000:
                raise SecurityError("a power above 1000 is not allowed in a template")
            if operator == "*":
                for seq, count in ((left, right), (right, left)):
                    sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                    if sized and len(seq) * count > MAX_SIZE:
                        raise SecurityError("the result is too large for a template")
            return super().call_binop(context, operator, left, right)

    env = Sandbox(
        loader=Loader(),
        undefined=StrictUndefined,
        # A value nobody set (a contact without owner, a business without a name) prints as
        # nothing, never as the word None, in every template, the user's own too.
        autoescape=lambda name: bool(name) and name.endswith(".html"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    from jinja2 import pass_context

    def currency_of(context) -> str:
        # Without a currency named, the document's own (an order's or deal's totals), so a
        # USD order's confirmation does not print euros; mails and the rest: EUR.
        totals = context.get("totals")
        return (totals.get("currency") if isinstance(totals, dict) else None) or "EUR"

    @pass_context
    def money(context, value: Any, currency: str | None = None) -> str:
        return Formatted(format_money_de(value, currency or currency_of(context)))

    @pass_context
    def cents(context, value: Any, currency: str | None = None) -> str:
        return Formatted(format_cents_de(value, currency or currency_of(context)))

    @pass_context
    def finalize(context, value: Any) -> Any:
        return _finalize_value(context, value)

    env.finalize = finalize
    env.filters.update(
        date=_formatted(format_date_de),
        datetime=_formatted(format_datetime_de),
        cents=cents,
        longdate=_formatted(lambda value: format_date_de(value, "long")),
        money=money,
        percent=_formatted(format_percent_de),
        number=_formatted(format_number_de),
        iban=format_iban,
        paragraphs=html_paragraphs,
    )
    return env


class Formatted(str):
    """What a number, money, percent or date filter made: printed as it is in Markdown (its
    `-1,00 €` starts no list), still escaped in HTML as any text is."""

    __slots__ = ()


def _formatted(fmt):
    """The filter `fmt` with its text marked Formatted."""

    def filter_(*args: Any, **kwargs: Any) -> Formatted | None:
        text = fmt(*args, **kwargs)
        return None if text is None else Formatted(text)

    return filter_


def _finalize_value(context: Any, value: Any) -> Any:
    if value is None:
        return ""
    if context.get(MARKDOWN_KEY) is True and isinstance(value, str):
        from markupsafe import Markup

        # Markup is text a template or crm marked as ready to print (|safe, a rendered body).
        if isinstance(value, (Markup, Formatted)):
            return value
        return escape_markdown(value)
    return value


def escape_markdown(text: str) -> str:
    """`text` (a name, a typed message) as Markdown that shows it as typed: its HTML tags,
    emphasis, links, table bars and code marks backslash-escaped (CommonMark escapes any ASCII
    punctuation so), and a line that would start a heading, list or quote made plain text."""
    escaped = _MD_BULLET.sub(r"\g<1>\\\g<2>", _MD_SPECIAL.sub(r"\\\g<0>", text))
    return _MD_NUMBERED.sub(r"\g<1>\\\g<2>", escaped)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _filename(template: Template, part: str) -> str:
    return f"{template.part_paths.get(part, template.path)}#{part}"


def _paths(template: Template) -> list[Path]:
    return [template.path, *template.part_paths.values()]


def _padded(body: str, first_line: int) -> str:
    """`body` behind a Jinja comment that takes the lines before it in the file, so that line
    numbers in errors are the file's."""
    return "{#" + "\n" * (first_line - 1) + "#}" + body if first_line > 1 else body


def _compiled(template: Template, part: str) -> Any:
    cached = template._compiled.get(part)
    if cached is not None:
        return cached
    body = template.part(part)
    if body is None:
        raise Invalid(f"template {template.name}", f"has no {part} part", template=template.name)
    source = _padded(body, template.first_line[part])
    compiled = _compile(template.name, f"{template.name}.{part}", source, _filename(template, part))
    template._compiled[part] = compiled
    return compiled


def _compile(label: str, name: str, source: str, filename: str) -> Any:
    from jinja2 import TemplateSyntaxError

    env = environment()
    try:
        code = env.compile(source, name=name, filename=filename)
    except TemplateSyntaxError as exc:
        raise Invalid(
            f"template {label}",
            f"line {exc.lineno}: {exc.message}",
            template=label,
            line=exc.lineno,
        ) from None
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def render(
    template: Template, context: Mapping[str, Any], part: str = "text", *, markdown: bool = False
) -> str:
    """Part `part` ("text" or "html") of `template` filled with `context`; `markdown`: the
    values it prints are escaped as Markdown (a text part that is a Markdown document).

    Invalid (one line: template, line, what went wrong) for a syntax error, a variable the
    context lacks, anything the sandbox refuses, or any other failure while rendering."""
    compiled = _compiled(template, part)
    if markdown:
        context = {**context, MARKDOWN_KEY: True}
    return _run(template.name, compiled, context, _filename(template, part))


def compile_parts(template: Template, keys: tuple[str, ...] = ()) -> None:
    """Compile every part of `template` and the front-matter values `keys` (a subject): a
    syntax error anywhere is one Invalid before anything is rendered for anyone."""
    for part in PARTS:
        if template.part(part) is not None:
            _compiled(template, part)
    for key in keys:
        if key in template.front_matter and f"@{key}" not in template._compiled:
            template._compiled[f"@{key}"] = _compile(
                f"{template.name} ({key})", f"{template.name}.{key}",
                template.front_matter[key], f"{template.path}#{key}",
            )  # fmt: skip


def render_value(
    template: Template, key: str, context: Mapping[str, Any], default: str = ""
) -> str:
    """A front-matter value (a subject line, a file name) rendered as a one-line template."""
    source = template.front_matter.get(key)
    if source is None:
        return default
    cached = template._compiled.get(f"@{key}")
    if cached is None:
        cached = _compile(
            f"{template.name} ({key})", f"{template.name}.{key}", source, f"{template.path}#{key}"
        )
        template._compiled[f"@{key}"] = cached
    text = _run(f"{template.name} ({key})", cached, context, f"{template.path}#{key}")
    return " ".join(text.split())


def render_string(source: str, context: Mapping[str, Any], *, name: str = "string") -> str:
    """`source` as a template (no autoescape), for text that is not in a file."""
    compiled = _compile(name, f"{name}.text", source, f"<{name}>")
    return _run(name, compiled, context, f"<{name}>")


def _run(label: str, compiled: Any, context: Mapping[str, Any], filename: str) -> str:
    from jinja2 import TemplateNotFound, TemplateSyntaxError
    from jinja2.sandbox import SecurityError

    from crmcli.errors import CrmError

    try:
        return str(compiled.render(context))
    except TemplateSyntaxError as exc:  # in an included template
        where = f"template {exc.name.rpartition('.')[0] if exc.name else label}"
        raise Invalid(where, f"line {exc.lineno}: {exc.message}", template=label) from None
    except TemplateNotFound as exc:
        raise NotFound(
            f"template {label}: no template '{exc.name}' to include", template=str(exc.name)
        ) from None
    except CrmError:
        raise
    except SecurityError as exc:
        line = _line_of(sys.exc_info()[2], filename)
        raise Invalid(
            f"template {label}",
            f"{_at(line)}not allowed in a template: {exc}",
            template=label,
            line=line,
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever a template does wrong is one error line
        line = _line_of(sys.exc_info()[2], filename)
        raise Invalid(
            f"template {label}", f"{_at(line)}{_describe(exc)}", template=label, line=line
        ) from None


def _at(line: int | None) -> str:
    return f"line {line}: " if line else ""


def _describe(exc: Exception) -> str:
    from jinja2 import UndefinedError

    if isinstance(exc, UndefinedError):
        return str(exc.message)
    if isinstance(exc, RecursionError):
        return "calls itself without end"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _line_of(tb: Any, filename: str) -> int | None:
    """The template line a failure happened on: Jinja2 rewrites the traceback so that each
    template frame carries the template's file name and line."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# ---------------------------------------------------------------- German filters


def html_paragraphs(value: Any) -> Any:
    """Typed text (a letter's --message) as HTML: a blank line starts a paragraph, a single
    line break stays a line break (`<br>`), everything escaped; "" for None."""
    from markupsafe import Markup, escape

    if value is None or value == "":
        return Markup("")
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b.strip("\n") for b in re.split(r"\n[ \t]*\n", text) if b.strip()]
    return Markup("\n").join(
        Markup("<p>")
        + Markup("<br>\n").join(escape(line) for line in b.split("\n"))
        + Markup("</p>")
        for b in blocks
    )


def _as_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{what} wants a number, not {value!r}")
    try:
        return Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} wants a number, not {value!r}") from None


def format_date_de(value: Any, format: str = "medium") -> str:
    """A date the German way: `24.12.2026` (medium), `24. Dezember 2026` (long), `Donnerstag,
    24. Dezember 2026` (full) or a babel pattern; a datetime gives its local date; "" for None.
    """
    if value is None or value == "":
        return ""
    from crmcli.values import local_tz, to_utc

    if isinstance(value, datetime):
        value = to_utc(value).astimezone(local_tz()).date()
    elif isinstance(value, str):
        value = date.fromisoformat(value)
    elif not isinstance(value, date):
        raise ValueError(f"date wants a date, not {value!r}")
    if format == "medium":  # the common case, without loading babel
        return value.strftime("%d.%m.%Y")
    from babel.dates import format_date

    return str(format_date(value, format=format, locale=LOCALE))


def format_datetime_de(value: Any) -> str:
    """A moment in local time the German way: `24.12.2026 14:00`; "" for None."""
    if value is None or value == "":
        return ""
    from crmcli.values import local_tz, to_utc

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"datetime wants a date and time, not {value!r}")
    return to_utc(value).astimezone(local_tz()).strftime("%d.%m.%Y %H:%M")


def format_cents_de(value: Any, currency: str = "EUR") -> str:
    """Integer cents (as the database keeps money) as `1.234,50 €`; "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"cents wants whole cents, not {value!r}")
    from crmcli.values import format_money

    return format_money(value, currency)


def format_money_de(value: Any, currency: str = "EUR") -> str:
    """An amount in euros (Decimal, int or float) as `1.234,50 €`, rounded half up to the
    cent; "" for None."""
    if value is None or value == "":
        return ""
    from crmcli.values import format_money

    cents = _as_decimal(value, "money").scaleb(2).quantize(Decimal(1), ROUND_HALF_UP)
    return format_money(int(cents), currency)


def format_percent_de(value: Any, places: int = 2) -> str:
    """A ratio as a German percentage: 0.19 -> `19 %`, 0.055 -> `5,5 %` (at most `places`
    decimals, trailing zeros dropped); "" for None."""
    if value is None or value == "":
        return ""
    from crmcli.values import format_percent_bp

    if places == 2:
        bp = _as_decimal(value, "percent").scaleb(4).quantize(Decimal(1), ROUND_HALF_UP)
        return format_percent_bp(int(bp))
    return format_number_de(_as_decimal(value, "percent") * 100, places) + " %"


def format_number_de(value: Any, places: int | None = None) -> str:
    """A number with German separators: 1234.5 -> `1.234,5`; `places` fixes the decimals."""
    if value is None or value == "":
        return ""
    from babel.numbers import format_decimal

    number = _as_decimal(value, "number")
    if places is None:
        return str(format_decimal(number, locale=LOCALE))
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return str(format_decimal(number, format=pattern, locale=LOCALE, decimal_quantization=True))


def format_iban(value: Any) -> str:
    """An IBAN in groups of four, as printed on letters: `DE89 3704 0044 0532 0130 00`."""
    if not value:
        return ""
    plain = "".join(str(value).split()).upper()
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))
