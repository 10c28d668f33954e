"""The command palette's jump: type part of a name (folded like `crm search`: mueller finds
Müller) and open that contact, company or deal."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from crmcli.tui.gateway import Failed

KINDS = ("contact", "company", "deal")
LABEL = {"contact": "Contact", "company": "Company", "deal": "Deal"}


class JumpProvider(Provider):
    async def search(self, query: str) -> Hits:
        from crmcli.services import search

        if len(query.strip()) < 2:
            return
        app = self.app
        try:
            hits = await app.gateway.call(search.search, query, limit=12, kinds=KINDS)  # type: ignore[attr-defined]
        except Failed:
            return
        for rank, hit in enumerate(hits):
            detail = ", ".join(str(v) for v in (hit.get("company"), hit.get("city")) if v)
            if hit["kind"] == "company":
                detail = hit.get("city") or ""
            name = hit["name"] or f"#{hit['id']}"
            yield Hit(
                1.0 - rank / 100,
                f"{LABEL[hit['kind']]}: {name}" + (f"  ({detail})" if detail else ""),
                partial(app.open_item, hit["kind"], hit["id"]),  # type: ignore[attr-defined]
                text=f"{LABEL[hit['kind']]} {name}",
                help=f"Open {hit['kind']} #{hit['id']}",
            )
