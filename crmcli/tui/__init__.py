"""`crm tui`: the full-screen CRM (Textual). Screens call services only, through the gateway's
database thread; nothing here holds SQL, peewee or a business rule."""
