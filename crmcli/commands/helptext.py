"""How `--help` pages are laid out, on top of typer's vendored click (see the typer pin in
pyproject.toml): option names are never broken at a hyphen (`--move-to`, not `--move-` and
`to`), arguments read as the README writes them (`NAME`, `[NAME]`, `QUERY...`, never typer's
`{name}`), option values as `TEXT`, `N`, `WHEN` (never click's `<str>`, `<int range>`), and a
number range is shown only where it tells something the help text does not (`[default: 50]`,
not `[default: 50; 0<=x<=1000000000]`).

Examples in docstrings are blocks after click's `\\b` marker: one command a line, as typed."""

from __future__ import annotations

from typing import Any

# A maximum this large is an overflow guard, not a limit a person needs to know.
_INTERNAL_MAX = 1_000_000_000


def _argument_metavar(self: Any, ctx: Any, *, usage: bool = False) -> str:
    var = self.metavar or (self.name or "").upper()
    if var.startswith("["):  # a metavar that says it all: "[KIND] REF"
        return var
    if self.nargs != 1 and not var.endswith("..."):
        var += "..."
    return f"[{var}]" if usage and not self.required else var


def _help_record(original: Any) -> Any:
    def get_help_record(self: Any, ctx: Any) -> tuple[str, str] | None:
        record = original(self, ctx)
        if record is None:
            return record
        import re

        names, text = record
        # click's generic <str>/<int range> read as the README's TEXT and N.
        names = re.sub(r"<int(?: range)?>", "N", names).replace("<str>", "TEXT")
        limit = getattr(self.type, "max", None)
        if limit is not None and (limit >= _INTERNAL_MAX or "at most" in (self.help or "")):
            text = re.sub(r";\s*-?\d+<=x<=\d+(?=\])", "", text)  # [default: 50; 0<=x<=...]
            text = re.sub(r"\[-?\d+<=x<=\d+;\s*", "[", text)
            text = re.sub(r"\s*\[-?\d+<=x<=\d+\]", "", text)
        return names, text

    return get_help_record


def _wrap_text(original: Any) -> Any:
    def wrap_text(*args: Any, **kwargs: Any) -> str:
        # Loaded with the first help page, not at start-up: a plain command never wraps text.
        from typer._click import _textwrap

        if not getattr(_textwrap, "_crm_layout", False):

            class TextWrapper(_textwrap.TextWrapper):
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    kwargs.setdefault("break_on_hyphens", False)
                    super().__init__(*args, **kwargs)

            _textwrap.TextWrapper = TextWrapper  # type: ignore[misc]
            _textwrap._crm_layout = True  # type: ignore[attr-defined]
        return original(*args, **kwargs)

    return wrap_text


def install() -> None:
    """Apply the layout to every help page (cheap: patches modules typer has loaded already;
    the text wrapper itself is loaded with the first help page)."""
    from typer import core
    from typer._click import formatting

    if getattr(formatting, "_crm_layout", False):
        return
    formatting.wrap_text = _wrap_text(formatting.wrap_text)
    core.TyperArgument.make_metavar = _argument_metavar  # type: ignore[method-assign]
    core.TyperOption.get_help_record = _help_record(  # type: ignore[method-assign]
        core.TyperOption.get_help_record
    )
    formatting._crm_layout = True  # type: ignore[attr-defined]
