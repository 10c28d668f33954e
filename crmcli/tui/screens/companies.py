"""Companies: every company in a table that pages itself in, `/` to search as you type (the
folding prefix search of `crm search`), `s` to change the sort, Enter to open the card."""

from __future__ import annotations

from crmcli.tui.screens.list_base import PagedListScreen
from crmcli.tui.widgets.paged_table import Column

COLUMNS = (
    Column("name", "Name", 20, lambda r: r["name"] or "", sort="name", flex=True),
    Column("industry", "Industry", 14, lambda r: r["industry"] or "", flex=True, drop=2),
    Column("city", "City", 14, lambda r: r["city"] or "", sort="city", drop=1),
    Column("domain", "Domain", 18, lambda r: r["domain"] or "", flex=True, drop=3),
    Column("phone", "Phone", 16, lambda r: r["phone"] or "", drop=4),
)


class CompaniesScreen(PagedListScreen):
    MODE = "companies"
    KIND = "company"
    PLURAL = "companies"
    PLACEHOLDER = "/ search: name, domain, city…"
    COLUMNS = COLUMNS
    SORT_CYCLE = ("name", "city", "created", "id")

    async def _fetch(self, offset, limit, after, before, total) -> list[dict]:
        from crmcli.services import browse

        return await self.call(
            browse.company_rows, sort=self.sort_spec(), offset=offset, limit=limit,
            after=after, before=before, total=total, ids=self.ids,
        )  # fmt: skip

    async def _count(self) -> int:
        from crmcli.services import browse

        return await self.call(browse.count_companies, ids=self.ids)
