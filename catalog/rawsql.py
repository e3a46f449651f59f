"""What the few hand-written SQL statements share: values going in as one parameter, and
values coming back from a raw cursor as the ORM would give them.

The hot reads (`catalog.selectors`) and the ingestion upserts (`catalog.services.ingest`)
bypass the ORM where composing a queryset cost more than running it; these helpers keep the
two vendors' differences in one place.
"""

import datetime as dt
import uuid

from django.db import connection
from django.utils import timezone

#: Types whose values never need quoting in a PostgreSQL array literal.
PLAIN_ARRAY_TYPES = frozenset({"uuid", "bigint", "date", "timestamptz"})


def pg_array(kind: str, values: list):
    """An array of plain values as one literal ('{a,b,NULL}'): psycopg would otherwise
    inspect and quote each element, which for hundreds of them costs more than the query.
    Values of other types are returned as they are, for psycopg to adapt."""
    if kind not in PLAIN_ARRAY_TYPES:
        return values
    return (
        "{"
        + ",".join(
            "NULL" if v is None else v.isoformat() if kind in ("date", "timestamptz") else str(v)
            for v in values
        )
        + "}"
    )


def column(meta, name: str) -> str:
    """The quoted column of field `name` of a model's `_meta`."""
    return connection.ops.quote_name(meta.get_field(name).column)


def as_uuid(value) -> uuid.UUID:
    """A UUID read with a raw cursor (psycopg gives a UUID, SQLite 32 hex digits) or given
    as text by a caller."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def aware(value) -> dt.datetime | None:
    """A timestamp column read with a raw cursor, as the ORM would give it: aware, in UTC.
    (SQLite hands back naive UTC, or text where it can't tell the column's type.)"""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value
