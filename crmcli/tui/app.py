"""crm tui: a thin Textual app. It owns the database thread (gateway), the screens (one
mode each, switched with the number keys), the command palette's jump to any contact,
company or deal, and the poll that shows other processes' writes within two seconds."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from crmcli.tui.gateway import Failed, Gateway

# mode name: (module under crmcli.tui.screens, screen class, key, title in the footer)
SCREENS: dict[str, tuple[str, str, str, str]] = {
    "today": ("today", "TodayScreen", "1", "Today"),
    "contacts": ("contacts", "ContactsScreen", "2", "Contacts"),
    "companies": ("companies", "CompaniesScreen", "3", "Companies"),
    "tasks": ("tasks", "TasksScreen", "4", "Tasks"),
    "pipeline": ("pipeline", "PipelineScreen", "5", "Pipeline"),
    "reports": ("reports", "ReportsScreen", "6", "Reports"),
}
# How often the app asks the database whether another process wrote (seconds).
POLL_SECONDS = 1.0


def _screen_factory(module: str, name: str) -> Callable[[], Screen]:
    def make() -> Screen:
        return getattr(importlib.import_module(f"crmcli.tui.screens.{module}"), name)()

    return make


class CrmApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "crm"
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        mode: _screen_factory(module, cls) for mode, (module, cls, _, _) in SCREENS.items()
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"app.switch_mode('{mode}')", title, show=False)
            for mode, (_, _, key, title) in SCREENS.items()
        ),
        Binding("question_mark", "app.show_keys", "Keys", key_display="?"),
        # Esc closes the key list first (the binding is off while the list is not shown).
        Binding("escape", "app.hide_keys", "Close the keys", show=False, priority=True),
        Binding("ctrl+q", "app.quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        db,
        *,
        now: Callable[[], datetime] | None = None,
        start: str = "today",
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.gateway = Gateway(db)
        self._now = now
        self.start = start
        self.poll_seconds = poll_seconds
        # Raised each time the database changed under the app (another process wrote, or
        # a screen of ours did): a screen that saw an older one reads again when shown.
        self.generation = 0
        self._version: str | None = None
        # The terminal's own colours; with NO_COLOR none at all (Textual's filter turns a
        # theme into shades of grey; on the ANSI theme it drew black on black).
        self.theme = "textual-dark" if "NO_COLOR" in os.environ else "ansi-dark"

    # -- time and database -------------------------------------------------------------

    def now(self) -> datetime:
        from crmcli.values import to_utc

        if self._now is not None:
            return to_utc(self._now())
        from crmcli.models import utcnow

        return utcnow()

    async def call(self, fn, *args: Any, **kwargs: Any) -> Any:
        """A service call on the database thread. A failure (a bad value, a record deleted
        meanwhile, a busy database) becomes a notification, and Failed for the caller."""
        try:
            return await self.gateway.call(fn, *args, **kwargs)
        except Failed as exc:
            self.notify(str(exc), title="Not done", severity="error", timeout=6)
            raise

    def wrote(self) -> None:
        """A screen of ours changed the database: every screen reads again when shown."""
        self.generation += 1
        self._broadcast()

    # -- life cycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.run_worker(self._poll(), group="poll")  # the version the first screens read
        self.switch_mode(self.start)
        self.set_interval(self.poll_seconds, self._poll)

    def on_unmount(self) -> None:
        self.gateway.close()

    async def _poll(self) -> None:
        from crmcli.services import changes

        try:
            version = await self.gateway.call(changes.data_version)
        except Failed:
            return  # the database is away for a moment: the next poll tries again
        if self._version is not None and version != self._version:
            self.generation += 1
            self._broadcast()
        self._version = version

    async def check_changes(self) -> None:
        """Poll now (tests: a write from another process, then this)."""
        await self._poll()

    def _broadcast(self) -> None:
        from crmcli.tui.screens.base import CrmScreen

        for screen in self.screen_stack:
            if isinstance(screen, CrmScreen):
                screen.changed()

    # -- navigation ----------------------------------------------------------------------

    def open_contact(self, contact_id: int) -> None:
        from crmcli.tui.screens.contact_card import ContactCard

        self.push_screen(ContactCard(contact_id))

    def open_company(self, company_id: int) -> None:
        from crmcli.tui.screens.company_card import CompanyCard

        self.push_screen(CompanyCard(company_id))

    def open_deal(self, deal_id: int) -> None:
        from crmcli.tui.screens.deal_card import DealCard

        self.push_screen(DealCard(deal_id))

    def open_item(self, kind: str, item_id: int) -> None:
        """Open whatever a list shows: a contact, company or deal."""
        {"contact": self.open_contact, "company": self.open_company, "deal": self.open_deal}[kind](
            item_id
        )

    def action_show_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_hide_keys(self) -> None:
        self.action_hide_help_panel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_keys":
            return bool(self.screen.query("HelpPanel"))
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's commands: every screen, every action the screen has keys for (as
        its footer and `?` show them), then Textual's own (theme, keys, screenshot, quit)."""
        for mode, (_, _, key, title) in SCREENS.items():
            yield SystemCommand(
                f"Go to {title}", f"Open the {title} screen (key {key})",
                lambda mode=mode: self.switch_mode(mode),
            )  # fmt: skip
        seen = {f"Go to {title}" for _, _, _, title in SCREENS.values()}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or not active.enabled or binding.description in seen:
                continue
            seen.add(binding.description)
            key = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description, f"{binding.tooltip or binding.description} (key {key})",
                partial(self.run_action, binding.action, active.node),
            )  # fmt: skip
        yield from super().get_system_commands(screen)


def _jump_provider():
    from crmcli.tui.widgets.jump import JumpProvider

    return JumpProvider


CrmApp.COMMANDS = App.COMMANDS | {_jump_provider}


def make_app(db, *, now: Callable[[], datetime] | None = None, start: str = "today") -> CrmApp:
    """The app on an open database (tests pass a temporary one and a fixed clock)."""
    return CrmApp(db, now=now, start=start)
