"""`crm tui`: the full-screen CRM (Textual). Screens call services only, through the gateway's
database thread; nothing here holds SQL, peewee or a business rule."""

import os

# Textual draws what changed on a timer of 1/TEXTUAL_FPS s (60 by default): a table whose
# rows arrived just after a tick waits up to 17 ms to be shown. At 120 a keystroke's result
# is on the screen ~8 ms sooner; drawing happens only when something changed, so an idle
# screen costs nothing more. Set before Textual is imported (it reads it once); a user's
# own TEXTUAL_FPS wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
