"""A task carries its contact's name, and open tasks are indexed in the order they are listed.

- task.contact_name: the name of the task's contact (NULL without contact), so a list of
  tasks reads no contact. Every list of tasks shows the name; on PostgreSQL at 1,000,000
  contacts, looking up the contacts of the 7,000 tasks due by tonight was 30 of the 50 ms
  `crm list tasks --today` took (a page of the contact table each). Kept by triggers,
  whatever writes (an edit, an import, a merge, plain SQL): a new task and a task given
  another contact take that contact's name, a name written into the column by anything
  but the triggers is put right, and a contact's new name goes to all its tasks.
- PostgreSQL: the triggers that copy a contact's name to its tasks, and its source to its
  orders (0016), and the triggers that pass a new name or source on, take a lock for the
  contact's bucket, so that a copy made while another transaction changes the contact
  cannot keep the old value (see POSTGRES).
- task_open_due_list (open_due_at, priority DESC, id) for open tasks replaces 0004's index
  on open_due_at alone (it leads with the same column, so whatever used that one uses this):
  a list of tasks due is read in the order it is shown, with no sort.

Existing tasks are filled in. Model shapes are frozen here (see 0001).
"""

from peewee import SqliteDatabase

OLD_INDEX = "task_open_due_at"
INDEX = (
    "CREATE INDEX task_open_due_list ON task (open_due_at, priority DESC, id) "
    "WHERE open_due_at IS NOT NULL"
)
NAME_OF = "(SELECT c.name FROM contact c WHERE c.id = NEW.contact_id)"

SQLITE = (
    f"""CREATE TRIGGER task_contact_name_new AFTER INSERT ON task
       WHEN NEW.contact_name IS NOT {NAME_OF} BEGIN
         UPDATE task SET contact_name = {NAME_OF} WHERE id = NEW.id;
       END""",
    f"""CREATE TRIGGER task_contact_name_changed AFTER UPDATE OF contact_id, contact_name ON task
       WHEN NEW.contact_name IS NOT {NAME_OF} BEGIN
         UPDATE task SET contact_name = {NAME_OF} WHERE id = NEW.id;
       END""",
    """CREATE TRIGGER contact_name_tasks AFTER UPDATE OF name ON contact
       WHEN NEW.name IS NOT OLD.name BEGIN
         UPDATE task SET contact_name = NEW.name WHERE contact_id = NEW.id;
       END""",
)

# PostgreSQL: a copy and a change of what it copies exclude each other. Without that, a
# task written in one transaction while another renamed its contact kept the old name for
# good: the rename's UPDATE of the tasks cannot see tasks not committed yet, and the new
# task read the name as it was before the rename committed. So a task's or an order's copy
# takes a shared transaction lock for its contact's bucket (contact id modulo BUCKETS) and a
# rename or a new source takes it exclusively, before each reads or writes: one waits for
# the other's commit, and then (a volatile function's next statement sees what was
# committed) sees it. An advisory lock, not the contact's row: reading the row FOR SHARE
# made every other write of the contact (a logged call's last_activity_at, remind's marks)
# wait for a task import to commit, and two imports meeting the same contacts in another
# order deadlock. Buckets, not one lock a contact: a transaction writing tasks for 100,000
# contacts holds at most BUCKETS locks (PostgreSQL's lock table holds ~6,400 by default).
# The two-integer key is a space of its own beside the one-bigint locks of db.py.
COPY_LOCK = 1129467235  # 'CRMc'
BUCKETS = 64


def _copy(column: str, source: str) -> str:
    """The body of a BEFORE trigger giving NEW.<column> its contact's <source>."""
    return f"""BEGIN
         IF NEW.contact_id IS NULL THEN
           NEW.{column} := NULL;
         ELSE
           PERFORM pg_advisory_xact_lock_shared({COPY_LOCK}, mod(NEW.contact_id, {BUCKETS})::int);
           NEW.{column} := (SELECT c.{source} FROM contact c WHERE c.id = NEW.contact_id);
         END IF;
         RETURN NEW;
       END"""


def _pass_on(table: str, column: str, source: str) -> str:
    """The body of an AFTER trigger on contact giving its rows of `table` the new value."""
    return f"""BEGIN
         PERFORM pg_advisory_xact_lock({COPY_LOCK}, mod(NEW.id, {BUCKETS})::int);
         UPDATE {table} SET {column} = NEW.{source} WHERE contact_id = NEW.id;
         RETURN NULL;
       END"""


POSTGRES = (
    f"""CREATE OR REPLACE FUNCTION crm_task_contact_name() RETURNS trigger LANGUAGE plpgsql
       AS $$ {_copy("contact_name", "name")} $$""",
    """CREATE TRIGGER task_contact_name BEFORE INSERT OR UPDATE OF contact_id, contact_name
       ON task FOR EACH ROW EXECUTE FUNCTION crm_task_contact_name()""",
    f"""CREATE OR REPLACE FUNCTION crm_contact_name_tasks() RETURNS trigger LANGUAGE plpgsql
       AS $$ {_pass_on("task", "contact_name", "name")} $$""",
    """CREATE TRIGGER contact_name_tasks AFTER UPDATE OF name ON contact FOR EACH ROW
       WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION crm_contact_name_tasks()""",
    f"""CREATE OR REPLACE FUNCTION crm_order_source() RETURNS trigger LANGUAGE plpgsql
       AS $$ {_copy("source", "source")} $$""",
    f"""CREATE OR REPLACE FUNCTION crm_contact_source() RETURNS trigger LANGUAGE plpgsql
       AS $$ {_pass_on("sales_order", "source", "source")} $$""",
)


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    if not sqlite:  # no rename may commit between the fill and the triggers (until COMMIT)
        db.execute_sql("LOCK TABLE contact IN SHARE ROW EXCLUSIVE MODE")
    db.execute_sql("ALTER TABLE task ADD COLUMN contact_name TEXT")
    db.execute_sql(
        "UPDATE task SET contact_name = (SELECT c.name FROM contact c "
        "WHERE c.id = task.contact_id) WHERE contact_id IS NOT NULL"
    )
    db.execute_sql(f"DROP INDEX IF EXISTS {OLD_INDEX}")
    db.execute_sql(INDEX)
    for statement in SQLITE if sqlite else POSTGRES:
        db.execute_sql(statement)
    if not sqlite:
        db.execute_sql("ANALYZE task")
