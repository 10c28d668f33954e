"""The cyclic garbage collector waits while crm starts, and works again once a command runs.

Start-up builds tens of thousands of objects that live as long as the process (modules,
classes, typer's and peewee's tables) and makes no garbage cycles, yet the collector would
walk them again and again while they are made: about a quarter of a short command's time
(bench/README.md). So the console script pauses it first thing (crmcli.launch), and `resume`
(called when a command opens its database, before it does its work: crmcli.env) freezes what
start-up made out of the collector's way and turns it back on. A process that never opens a
database (`crm --help`) ends before it matters. Both ends import this module, not each other.
"""

from __future__ import annotations

import gc


def pause() -> None:
    gc.disable()


def resume() -> None:
    """Collect cycles again from here on; idempotent, and a no-op unless `pause` ran."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
