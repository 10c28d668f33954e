"""The `crm` console script's first step: the cyclic garbage collector waits while crm starts.

Start-up builds tens of thousands of objects that live as long as the process (modules,
classes, typer's and peewee's tables) and makes no garbage cycles, yet the collector would
walk them again and again while they are made: about a quarter of a short command's time
(bench/README.md). So `main` pauses it, and `resume` (called when a command opens its
database, before it does its work) freezes what start-up made out of the collector's way and
turns it back on. A process that never opens a database (`crm --help`) ends before it matters.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from crmcli.cli import main as run

    run()


def resume() -> None:
    """Collect cycles again from here on; idempotent, and a no-op unless `main` paused it."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
