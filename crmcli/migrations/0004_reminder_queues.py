"""Reminder queues: what `crm remind` has yet to print is found by index, not by walking all.

- task.open_due_at: an open task's due time (its snooze, else due_at), NULL when done or
  undated, indexed for `crm list tasks --today/--overdue` and `crm remind --all`.
- task.remind_at, activity.remind_at: whole seconds since 1970 (UTC) of an open task's due time
  and of an open inquiry's/complaint's/return's time, NULL once `crm remind` printed it (or
  when there is nothing to remind of). Partial indexes hold only the armed rows.
- contact.cadence_eff (the shorter of the contact's and its tags' stay-in-touch cadence),
  contact.touch_due (when the contact is due for a call, seconds since 1970) and
  contact.touch_remind (touch_due until that occurrence was printed).
- contact.birthday_reminded: the year of the last birthday reminded, indexed with the day.
- Logging a call writes fewer index pages: the open-activity index covers only open rows, the
  company and deal timeline indexes only rows that have one, and three single-column
  activity indexes that the composite ones already serve are dropped.

Everything open is armed here; the reminder log (keys of what was printed) keeps an
occurrence that was printed before the upgrade from being printed again.
"""

from peewee import SQL, BigIntegerField, DateTimeField, IntegerField, SqliteDatabase

DAY = 86_400


def _epoch(db, column: str) -> str:
    if isinstance(db, SqliteDatabase):
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("task", "open_due_at", DateTimeField(null=True)),
        migrator.add_index("task", ("open_due_at",), where=SQL("open_due_at IS NOT NULL")),
        migrator.add_column("task", "remind_at", BigIntegerField(null=True)),
        migrator.add_index("task", ("remind_at",), where=SQL("remind_at IS NOT NULL")),
        migrator.add_column("activity", "remind_at", BigIntegerField(null=True)),
        migrator.add_index("activity", ("remind_at",), where=SQL("remind_at IS NOT NULL")),
        migrator.add_column("contact", "cadence_eff", IntegerField(null=True)),
        migrator.add_column("contact", "touch_due", BigIntegerField(null=True)),
        migrator.add_column("contact", "touch_remind", BigIntegerField(null=True)),
        migrator.add_index("contact", ("touch_due",), where=SQL("touch_due IS NOT NULL")),
        migrator.add_index("contact", ("touch_remind",), where=SQL("touch_remind IS NOT NULL")),
        migrator.drop_index("contact", "contact_birthday_md"),
        migrator.drop_index("contact", "contact_cadence_days_last_activity_at_created_at"),
        migrator.add_index(
            "activity", ("occurred_at",), where=SQL("status = 'open'"), name="activity_open"
        ),
        migrator.drop_index("activity", "activity_status_occurred_at"),
        migrator.drop_index("activity", "activity_contact_id"),
        migrator.drop_index("activity", "activity_company_id"),
        migrator.drop_index("activity", "activity_created_at"),
        migrator.drop_index("activity", "activity_company_id_occurred_at"),
        migrator.add_index(
            "activity", ("company_id", "occurred_at"), where=SQL("company_id IS NOT NULL")
        ),
        migrator.drop_index("activity", "activity_deal_id_occurred_at"),
        migrator.add_index(
            "activity", ("deal_id", "occurred_at"), where=SQL("deal_id IS NOT NULL")
        ),
    )
    # Spelled out: peewee's SQLite migrator would add a NOT NULL column by copying the table,
    # and dropping the old contact table would cascade-delete every activity and task.
    db.execute_sql("ALTER TABLE contact ADD COLUMN birthday_reminded INTEGER NOT NULL DEFAULT 0")
    migrator.migrate(migrator.add_index("contact", ("birthday_md", "birthday_reminded"), False))
    db.execute_sql(
        "UPDATE task SET open_due_at = COALESCE(snoozed_until, due_at) WHERE done_at IS NULL"
    )
    db.execute_sql(
        f"UPDATE task SET remind_at = {_epoch(db, 'COALESCE(snoozed_until, due_at)')} "
        "WHERE done_at IS NULL AND COALESCE(snoozed_until, due_at) IS NOT NULL"
    )
    db.execute_sql(
        f"UPDATE activity SET remind_at = {_epoch(db, 'occurred_at')} WHERE status = 'open'"
    )
    tag_days = (
        "(SELECT MIN(t.cadence_days) FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id "
        "WHERE ct.contact_id = contact.id)"
    )
    db.execute_sql(
        "UPDATE contact SET cadence_eff = COALESCE("
        f"CASE WHEN cadence_days < {tag_days} THEN cadence_days ELSE {tag_days} END, cadence_days)"
    )
    since = _epoch(db, "COALESCE(last_activity_at, created_at)")
    db.execute_sql(
        f"UPDATE contact SET touch_due = {since} + cadence_eff * {DAY} "
        "WHERE cadence_eff IS NOT NULL AND status <> 'inactive'"
    )
    db.execute_sql("UPDATE contact SET touch_remind = touch_due")
