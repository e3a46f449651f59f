"""Full-text search over resources: a weighted tsvector with a GIN index on PostgreSQL, an FTS5
index kept in sync by triggers on SQLite (see catalog/search.py for the queries).

Neither is a model field: Django never reads or writes them, so `makemigrations` stays clean and
every write path (save, bulk_create, QuerySet.update, COPY, raw SQL) keeps the index current.

Later migrations of catalog_resource must mind them:

* PostgreSQL refuses to change the type of a column a generated column reads: an AlterField of
  title, description or definition (a new max_length, a collation) must drop search_vector
  first and add it back after (PG_BACKWARD, then PG_FORWARD).
* Django's SQLite backend rebuilds a table for most schema changes, and the rebuild drops the
  table's triggers: such a migration must create the three triggers again (the CREATE TRIGGER
  statements of SQLITE_FORWARD). tests/test_search.py checks they exist.
"""

from django.db import migrations

# --- PostgreSQL ---------------------------------------------------------------------------

#: ASCII punctuation becomes a space before PostgreSQL's parser sees the text, so
#: "page_url", "order.completed" or "foo@example.com" are indexed as their words (the parser
#: would otherwise keep hosts, emails, paths and versions as single tokens), the way SQLite's
#: unicode61 tokenizer and the query side (catalog.search) split them.
_PG_WORDS = "to_tsvector('simple'::regconfig, regexp_replace({text}, '[[:punct:]]+', ' ', 'g'))"
#: Descriptions and definitions are capped at 100,000 characters: a tsvector can't exceed 1 MB,
#: and a write must never fail on a long definition. (Titles have at most 255.)
_PG_LONG = "left({column}, 100000)"

PG_FORWARD = [
    f"""
    ALTER TABLE catalog_resource ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight({_PG_WORDS.format(text="title")}, 'A')
        || setweight({_PG_WORDS.format(text=_PG_LONG.format(column="description"))}, 'B')
        || setweight({_PG_WORDS.format(text=_PG_LONG.format(column="definition"))}, 'C')
    ) STORED
    """,
    "CREATE INDEX resource_search_vector_idx ON catalog_resource USING gin (search_vector)",
    # Titles alone: search finds title matches first without reading every match's row (the
    # index above can't tell a title's words from a definition's). catalog.search writes the
    # same expression, so the planner uses this index.
    f"""
    CREATE INDEX resource_search_title_idx ON catalog_resource
    USING gin ({_PG_WORDS.format(text="title")})
    """,
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS resource_search_title_idx",
    "DROP INDEX IF EXISTS resource_search_vector_idx",
    "ALTER TABLE catalog_resource DROP COLUMN IF EXISTS search_vector",
]

# --- SQLite -------------------------------------------------------------------------------

# catalog_resource has no INTEGER PRIMARY KEY, so its implicit rowid is not stable (VACUUM and
# Django's table rebuilds renumber it): an FTS5 table keyed by it would silently point at the
# wrong rows. catalog_resource_search_key gives each resource a stable integer, which is the
# FTS5 table's rowid. The FTS5 table keeps its own copy of the text (a few hundred bytes a
# resource), so deleting a row never depends on the old text.
SQLITE_FORWARD = [
    """
    CREATE TABLE catalog_resource_search_key (
        id INTEGER PRIMARY KEY,
        resource_id char(32) NOT NULL UNIQUE
    )
    """,
    # unicode61 without removing diacritics: the words PostgreSQL's 'simple' configuration
    # finds. Prefix indexes of 2 and 3 characters keep as-you-type queries fast.
    """
    CREATE VIRTUAL TABLE catalog_resource_search USING fts5(
        title, description, definition,
        tokenize = 'unicode61 remove_diacritics 0',
        prefix = '2 3'
    )
    """,
    """
    CREATE TRIGGER catalog_resource_search_insert AFTER INSERT ON catalog_resource BEGIN
        INSERT OR IGNORE INTO catalog_resource_search_key (resource_id) VALUES (new.id);
        INSERT OR REPLACE INTO catalog_resource_search (rowid, title, description, definition)
            SELECT id, new.title, new.description, new.definition
            FROM catalog_resource_search_key WHERE resource_id = new.id;
    END
    """,
    # Django's save() writes every column: only reindex when the text (or the id) changed.
    """
    CREATE TRIGGER catalog_resource_search_update
    AFTER UPDATE OF id, title, description, definition ON catalog_resource
    WHEN old.id IS NOT new.id OR old.title IS NOT new.title
        OR old.description IS NOT new.description OR old.definition IS NOT new.definition
    BEGIN
        DELETE FROM catalog_resource_search WHERE old.id IS NOT new.id
            AND rowid = (SELECT id FROM catalog_resource_search_key WHERE resource_id = old.id);
        DELETE FROM catalog_resource_search_key WHERE old.id IS NOT new.id
            AND resource_id = old.id;
        INSERT OR IGNORE INTO catalog_resource_search_key (resource_id) VALUES (new.id);
        INSERT OR REPLACE INTO catalog_resource_search (rowid, title, description, definition)
            SELECT id, new.title, new.description, new.definition
            FROM catalog_resource_search_key WHERE resource_id = new.id;
    END
    """,
    """
    CREATE TRIGGER catalog_resource_search_delete AFTER DELETE ON catalog_resource BEGIN
        DELETE FROM catalog_resource_search
            WHERE rowid = (SELECT id FROM catalog_resource_search_key WHERE resource_id = old.id);
        DELETE FROM catalog_resource_search_key WHERE resource_id = old.id;
    END
    """,
    "INSERT INTO catalog_resource_search_key (resource_id) SELECT id FROM catalog_resource",
    """
    INSERT INTO catalog_resource_search (rowid, title, description, definition)
        SELECT k.id, r.title, r.description, r.definition
        FROM catalog_resource r JOIN catalog_resource_search_key k ON k.resource_id = r.id
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_resource_search_insert",
    "DROP TRIGGER IF EXISTS catalog_resource_search_update",
    "DROP TRIGGER IF EXISTS catalog_resource_search_delete",
    "DROP TABLE IF EXISTS catalog_resource_search",
    "DROP TABLE IF EXISTS catalog_resource_search_key",
]

STATEMENTS = {
    "postgresql": (PG_FORWARD, PG_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def _run(schema_editor, backward: bool) -> None:
    """Run this database's statements; other databases get no index (and search_resources
    refuses them)."""
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return
    for statement in statements[backward]:
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor) -> None:
    _run(schema_editor, backward=False)


def backward(apps, schema_editor) -> None:
    _run(schema_editor, backward=True)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_notification_shown"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
