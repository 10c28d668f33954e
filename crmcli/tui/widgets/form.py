"""Dialogs that ask for values: a form whose fields are checked as they are typed with the
CLI's own parsers (German dates, `1.234,50`, phones, emails), and a yes/no question.

A form is declared, not drawn by hand: a list of `Field`s and a `save(values)` coroutine
that calls the service (through the database thread). A value a parser refuses shows its
reason under the field at once; Save checks every field, and a service's refusal (a
duplicate email, a record deleted meanwhile) is a notification with the form still open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from crmcli.errors import CrmError
from crmcli.tui.gateway import Failed
from crmcli.tui.screens.base import CrmModal


@dataclass
class Field:
    """One value of a form. `parse(text)` turns the text into the value (raising the CLI's
    Invalid with the reason); without it the text itself is the value ("" is None)."""

    name: str
    label: str
    value: str = ""
    parse: Callable[[str], Any] | None = None
    required: bool = False
    options: Sequence[tuple[str, str]] = ()  # a choice (Select) instead of free text
    multiline: bool = False
    placeholder: str = ""
    extra: dict = field(default_factory=dict)


class FormDialog(CrmModal):
    """Subclasses set `heading` and `fields()`, and implement `save(values)`, returning what
    the dialog gives back (the record's id, say); raising Failed keeps the form open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]
    heading = "Form"

    def fields(self) -> list[Field]:
        raise NotImplementedError

    async def save(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        self._fields = {f.name: f for f in self.fields()}
        with VerticalScroll(classes="form"):
            yield Static(self.heading, classes="title")
            # A choice takes Enter to open its list: say how to save from anywhere.
            yield Static("Enter in a text field or ctrl+s saves · Esc cancels", classes="status")
            for f in self._fields.values():
                with Horizontal(classes="field"):
                    yield Label(f.label + (" *" if f.required else ""))
                    if f.options:
                        yield Select(
                            [(label, value) for label, value in f.options],
                            value=f.value if f.value else Select.NULL,
                            allow_blank=not f.required, id=f"field-{f.name}", compact=True,
                            prompt=f.placeholder or "(none)",
                        )  # fmt: skip
                    elif f.multiline:
                        yield TextArea(f.value, id=f"field-{f.name}")
                    else:
                        yield Input(
                            f.value, placeholder=f.placeholder, id=f"field-{f.name}", compact=True
                        )
                yield Static("", id=f"error-{f.name}", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        first = next(iter(self._fields), None)
        if first is not None:
            self.query_one(f"#field-{first}").focus()

    def text_of(self, name: str) -> str:
        widget = self.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        if isinstance(widget, TextArea):
            return widget.text
        return widget.value  # type: ignore[attr-defined]

    def _check(self, name: str) -> tuple[bool, Any]:
        """The field's value, or (False, None) with its reason shown under it."""
        f = self._fields[name]
        text = self.text_of(name)
        error = self.query_one(f"#error-{name}", Static)

        def show(why: str) -> None:
            error.update(why)
            error.set_class(bool(why), "shown")  # an empty reason takes no line

        if not text.strip():
            if f.required:
                show(f"{f.label.lower()} is required")
                return False, None
            show("")
            return True, None
        try:
            value = f.parse(text) if f.parse else text.strip()
        except CrmError as exc:
            show(getattr(exc, "why", None) or str(exc))
            return False, None
        show("")
        return True, value

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event) -> None:
        widget_id = event.control.id or ""
        if widget_id.startswith("field-"):
            self._check(widget_id.removeprefix("field-"))

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    async def action_save(self) -> None:
        values: dict[str, Any] = {}
        ok = True
        for name in self._fields:
            good, value = self._check(name)
            ok &= good
            values[name] = value
        if not ok:
            self.notify("check the marked fields", severity="warning")
            return
        try:
            result = await self.save(values)
        except Failed:
            return  # shown as a notification; the form stays open to fix it
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(CrmModal):
    """A yes/no question; gives back True or False. Enter or y says yes, Esc or n no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, yes: str = "Delete") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="form"):
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="no", compact=True)
                yield Button(self.yes, variant="error", id="yes", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
