"""The `crm` console script's first step: pause the garbage collector while crm starts
(crmcli.collector says why), then run the CLI."""

from __future__ import annotations


def main() -> None:
    from crmcli.collector import pause

    pause()
    from crmcli.cli import main as run

    run()
