"""What the CLI tells a user to do about an error: each `action` a service names, worded as
`crm` commands and flags.

Services raise facts (crmcli/errors.py): a message any front end can show, an action code and
the facts that go with it. A template here is the whole line the CLI prints after
`crm: error: `: `{message}` is the service's message, the other names are the error's facts.
An action without a template prints the message alone (a test holds every action that
services and the demo raise to having one here).
"""

from __future__ import annotations

HINTS = {
    # deals and stages
    "add_stage": "{message}; crm stages add NAME",
    "reopen_deal": "{message}; crm reopen deal {deal} first",
    "show_deal": "{message}; look again (crm show deal {deal})",
    "lose_deal": "{message}: crm lost {deal} --reason TEXT",
    "give_reason": "{message} (--reason)",
    "move_deal": "stage: a deal changes stage with crm move, won, lost or reopen",
    "move_deals_first": "{message}; remove it with --move-to STAGE",
    # tasks
    "until_or_count": "until: give --until or --count, not both",
    "give_due": "every: a recurring task needs --due (the series starts there)",
    "until_before_due": "until: --until is before --due",
    "reopen_task": "{message} (crm reopen {task} to undo)",
    "edit_task_due": "{message} (to bring it forward: crm edit task {task} --due WHEN)",
    # imports
    "give_encoding": "{message}; name the file's encoding with --encoding NAME",
    "import_rejects": "{message} (fix them, or give --rejects FILE to import the good rows)",
    "fix_rejects": "{message} (fix them in the file and import it again)",
    # the timeline and tags
    "plan_task": "{message} (plan it with: crm add task TITLE --due WHEN)",
    "give_text": "message: a note needs text: -m TEXT, or -m - to read it from stdin",
    "list_activities": "{message} (see crm list activities)",
    "list_tags": "{message} (crm list tags shows them)",
    "list_doc_templates": "{message} (crm doc templates lists them)",
    "create_from_mail": "{message}; add them (crm add contact), or log with --create",
    # crm import json
    "restore_into_new": "{message} (crm --db NEW.db import json FILE)",
    "dump_format": "{message} (what crm export all --format json writes)",
    "upgrade_to_restore": "{message}: upgrade crm to restore it",
    # campaigns
    "add_campaign": "{message} (crm list campaigns shows them; crm add campaign NAME adds one)",
    "name_campaign": "{message}; give --campaign too",
    # crm demo
    "demo_replace": "{message}; crm demo --force replaces it",
    "demo_other_database": "{message}; give it a database of its own: crm --db demo.db demo",
}


def cli_message(exc: Exception) -> str:
    """The error's line for the terminal: its message, worded with the CLI's hint if any."""
    message = str(exc)
    template = HINTS.get(getattr(exc, "action", None) or "")
    if template is None:
        return message
    try:
        return template.format(message=message, **getattr(exc, "facts", {}))
    except (KeyError, IndexError, ValueError):  # a fact missing: the plain message still helps
        return message
