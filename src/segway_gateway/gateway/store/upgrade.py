"""Bring a database made by an earlier version up to the schema: add missing columns.

`create_all` makes missing tables but never touches existing ones; a column added to
a table since (nullable, so old rows stay valid) is added here, on every start.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from segway_gateway.gateway.store.tables import metadata


def add_missing_columns(conn: Connection) -> list[str]:
    """Add the nullable columns the live tables lack; the `table.column` names added."""
    inspector = inspect(conn)
    added: list[str] = []
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                assert column.nullable, f"{table.name}.{column.name} must be nullable to add"
                quote = conn.dialect.identifier_preparer.quote
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(
                    text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")
                )
                added.append(f"{table.name}.{column.name}")
    return added
