"""A task carries its contact's name, and open tasks are indexed in the order they are listed.

- task.contact_name: the name of the task's contact (NULL without contact), so a list of
  tasks reads no contact. Every list of tasks shows the name; on PostgreSQL at 1,000,000
  contacts, looking up the contacts of the 7,000 tasks due by tonight was 30 of the 50 ms
  `crm list tasks --today` took (a page of the contact table each). Kept by triggers,
  whatever writes (an edit, an import, a merge, plain SQL): a new task and a task given
  another contact take that contact's name, a name written into the column by anything
  but the triggers is put right, and a contact's new name goes to all its tasks.
- PostgreSQL: the triggers that copy a contact's name to its tasks, and its source to its
  orders (0016), read the contact FOR SHARE, so that a copy made while another transaction
  changes the contact cannot keep the old value (see POSTGRES).
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

# PostgreSQL: the contact's row is read FOR SHARE. Without the lock a task written in one
# transaction while another renamed its contact kept the old name for good: the rename's
# UPDATE of the tasks cannot see tasks not committed yet, and the new task read the name as
# it was before the rename committed. With it the rename waits for the task's transaction
# (or the task for the rename's) and one of them sees the other. The same for an order's
# copy of its contact's source (migration 0016's function, replaced here).
POSTGRES = (
    """CREATE OR REPLACE FUNCTION crm_task_contact_name() RETURNS trigger LANGUAGE plpgsql
       AS $$
       BEGIN
         SELECT c.name INTO NEW.contact_name FROM contact c WHERE c.id = NEW.contact_id
           FOR SHARE;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER task_contact_name BEFORE INSERT OR UPDATE OF contact_id, contact_name
       ON task FOR EACH ROW EXECUTE FUNCTION crm_task_contact_name()""",
    """CREATE OR REPLACE FUNCTION crm_contact_name_tasks() RETURNS trigger LANGUAGE plpgsql
       AS $$
       BEGIN
         UPDATE task SET contact_name = NEW.name WHERE contact_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER contact_name_tasks AFTER UPDATE OF name ON contact FOR EACH ROW
       WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION crm_contact_name_tasks()""",
    """CREATE OR REPLACE FUNCTION crm_order_source() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         SELECT c.source INTO NEW.source FROM contact c WHERE c.id = NEW.contact_id FOR SHARE;
         RETURN NEW;
       END $$""",
)


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
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
