"""The `crm` console script's first steps: pause the garbage collector while crm starts
(crmcli.collector says why), pick the database driver's way in (crmcli.startup), then run
the CLI."""

from __future__ import annotations

import sys


def main() -> None:
    from crmcli.collector import pause

    pause()
    from crmcli.startup import prepare

    prepare(sys.argv[1:])  # before the CLI's imports, so a PostgreSQL login runs beside them
    from crmcli.cli import main as run

    run()
