"""What every screen of crm tui shares: the footer, database calls through the gateway with
errors as notifications, and reading its data again when the database changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen, Screen

from crmcli.tui.gateway import Failed

if TYPE_CHECKING:
    from crmcli.tui.app import CrmApp


class CrmScreen(Screen):
    """A screen that shows data. `reload()` reads it (again); the app calls it when another
    process wrote, or when the screen comes back into view after it went stale."""

    seen_generation = -1

    @property
    def crm(self) -> CrmApp:
        return self.app  # type: ignore[return-value]

    async def call(self, fn, *args: Any, **kwargs: Any) -> Any:
        """A service call on the database thread; a failure is shown and raised as Failed."""
        return await self.crm.call(fn, *args, **kwargs)

    async def reload(self) -> None:  # noqa: B027 (a screen without data has nothing to read)
        """Read the screen's data again (override)."""

    def on_screen_resume(self) -> None:
        if self.seen_generation != self.crm.generation:
            self.seen_generation = self.crm.generation
            self.run_worker(self._safe_reload(), group="reload", exclusive=True)

    async def _safe_reload(self) -> None:
        from textual.css.query import NoMatches

        try:
            await self.reload()
        except Failed:
            pass  # already shown as a notification
        except NoMatches as exc:
            # A screen taken down (popped, or the app quitting: its widgets go before it)
            # while its data was on the way has nothing left to fill. Never a traceback
            # for that; Textual's log keeps it for a developer.
            self.log.warning(f"reload of {self!r} found no widget: {exc}")

    def changed(self) -> None:
        """The database changed: read again now if in view, else when next shown."""
        if self.is_current and self.is_attached:
            self.seen_generation = self.crm.generation
            self.run_worker(self._safe_reload(), group="reload", exclusive=True)


class CrmModal(ModalScreen):
    """A dialog over a screen (forms, questions)."""

    @property
    def crm(self) -> CrmApp:
        return self.app  # type: ignore[return-value]

    async def call(self, fn, *args: Any, **kwargs: Any) -> Any:
        return await self.crm.call(fn, *args, **kwargs)
