"""Database errors turned into answers a person understands.

The database is the last word on unique titles and check constraints (two concurrent creates
of the same title can't both pass a check made beforehand); the services turn what it refuses
into a ValidationError naming the field, and a delete it refuses into `InUse` (409).
"""

import functools
import re

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction


class InUse(Exception):
    """The object is still referenced and can't be deleted; the message says what to do."""


#: Key columns that identify the parent, not what a person typed.
_SCOPE_COLUMNS = {"parent_id", "integration_id"}


def _failing_constraint(error: IntegrityError) -> tuple[str | None, str | None, list[str]]:
    """(table, constraint name, columns) of the violated constraint, as far as known."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg)
        columns = []
        detail = re.match(r"Key \(([^)]*)\)=", diag.message_detail or "")
        if detail:
            columns = [c.strip().strip('"') for c in detail.group(1).split(",")]
        return diag.table_name, diag.constraint_name, columns
    message = str(error)
    if found := re.search(r"CHECK constraint failed: (\w+)", message):  # SQLite
        return None, found.group(1), []
    if found := re.search(r"UNIQUE constraint failed: (.+)$", message):
        qualified = [c.strip() for c in found.group(1).split(",")]
        table = qualified[0].split(".")[0]
        return table, None, [c.split(".")[-1] for c in qualified]
    return None, None, []


def _model_of_table(table: str | None) -> type[models.Model] | None:
    for model in apps.get_app_config("catalog").get_models():
        if model._meta.db_table == table:
            return model
    return None


def integrity_error_as_validation(error: IntegrityError) -> ValidationError:
    """The ValidationError a form or API should show for a database's refusal."""
    table, name, columns = _failing_constraint(error)
    model = _model_of_table(table)
    for candidate in [model] if model else apps.get_app_config("catalog").get_models():
        for constraint in candidate._meta.constraints:
            fields = getattr(constraint, "fields", ())
            same_columns = columns and {candidate._meta.get_field(f).column for f in fields} == set(
                columns
            )
            if constraint.name == name or (name is None and same_columns):
                field = next((f for f in fields if f not in ("parent", "integration")), None)
                return ValidationError(
                    {field or NON_FIELD_ERRORS: constraint.get_violation_error_message()}
                )
    typed = [c for c in columns if c not in _SCOPE_COLUMNS]
    if model is not None and typed:
        field = next((f for f in model._meta.concrete_fields if f.column == typed[0]), None)
        if field is not None:
            return ValidationError(
                {
                    field.name: f"A {model._meta.verbose_name} with this "
                    f"{field.verbose_name} already exists."
                }
            )
    return ValidationError("The change conflicts with the catalog's rules; nothing was saved.")


def atomic_write(function):
    """Run a service in its own transaction (a savepoint inside the caller's) and turn the
    database's refusal into a ValidationError; the caller's transaction stays usable."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            with transaction.atomic():
                return function(*args, **kwargs)
        except IntegrityError as error:
            raise integrity_error_as_validation(error) from error

    return wrapper


class Conflict(Exception):
    """The change can't be made as asked without overwriting later work (409); `conflicts`
    says which objects and fields, and which later change touched them."""

    def __init__(self, message: str, conflicts: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.conflicts = conflicts or []
