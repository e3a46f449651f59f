"""The generic resource query: a JSON filter and sort compiled to one ORM query.

    filter={"operator": "exact", "field": "type", "value": "event"}
    filter={"operator": "and", "operands": [{...}, {"operator": "not", "operands": [{...}]}]}
    sort={"field": "updated_at", "order": "desc", "tie_breaker": "id"}

Field operators: exact, contains, in, is_set, gte, lte. Logical operators: and, or, not, nested
freely. Anything unknown is an error that says what is wrong; nothing is filtered in Python.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.api.parsers import JSONTextError, has_bad_text, load_json
from catalog.models import CustomProperty, CustomPropertyValue, EntityType
from catalog.models.resources import relation_columns
from catalog.services.resources import M2M_FIELDS
from catalog.timestamps import OutOfRange, parse_moment

FIELD_OPERATORS = ("exact", "contains", "in", "is_set", "gte", "lte")
LOGICAL_OPERATORS = ("and", "or", "not")
MAX_DEPTH = 10
MAX_CONDITIONS = 100


class ResourceQueryError(ValueError):
    """The filter or sort can't be used; the message tells the client why."""


@dataclass(frozen=True)
class Field:
    column: str
    kind: str  # "text", "uuid", "bool", "datetime", "choice", "m2m"
    operators: tuple[str, ...]


_TEXT = ("exact", "contains", "in", "is_set", "gte", "lte")
_ID = ("exact", "in", "is_set")
_BOOL = ("exact",)
_TIME = ("exact", "gte", "lte")
FIELDS: dict[str, Field] = {
    "id": Field("id", "uuid", ("exact", "in")),
    "type": Field("entity_type", "choice", ("exact", "in")),
    "entity_type": Field("entity_type", "choice", ("exact", "in")),
    "title": Field("title", "text", _TEXT),
    "description": Field("description", "text", _TEXT),
    "definition": Field("definition", "text", ("contains", "is_set")),
    "integration_id": Field("integration_id", "uuid", ("exact", "in")),
    "integration": Field("integration_id", "uuid", ("exact", "in")),
    "parent_id": Field("parent_id", "uuid", _ID),
    "parent": Field("parent_id", "uuid", _ID),
    "pii": Field("pii", "bool", _BOOL),
    "verified": Field("verified", "bool", _BOOL),
    "published": Field("published", "bool", _BOOL),
    "created_at": Field("created_at", "datetime", _TIME),
    "updated_at": Field("updated_at", "datetime", _TIME),
    **{name: Field(name, "m2m", ("exact", "contains", "in", "is_set")) for name in M2M_FIELDS},
}
SORT_FIELDS = {
    "id": "id",
    "title": "title",
    "type": "entity_type",
    "entity_type": "entity_type",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "pii": "pii",
    "verified": "verified",
    "published": "published",
}


def parse_json(raw: str | None, name: str) -> Any:
    """The JSON of query parameter `name`, read within the limits request bodies have.

    Text with NUL or an unpaired surrogate is refused here: no database can compare it.
    """
    if raw is None or raw == "":
        return None
    try:
        node = load_json(raw)
    except JSONTextError as error:
        raise ResourceQueryError(f"`{name}` is not valid JSON: {error}.") from error
    if has_bad_text(node):
        raise ResourceQueryError(f"`{name}` can't contain NUL characters or unpaired surrogates.")
    return node


def _value(field_name: str, field: Field, value: Any) -> Any:
    """Check one comparison value against the field's kind and convert it."""
    kind = field.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
    elif kind in {"uuid", "m2m"}:
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
    elif kind == "choice":
        if value in EntityType.values:
            return value
        raise ResourceQueryError(
            f"`{field_name}` must be one of {', '.join(EntityType.values)}, not {value!r}."
        )
    elif kind == "datetime":
        try:
            parsed = parse_moment(value) if isinstance(value, str) else None
        except OutOfRange as error:
            raise ResourceQueryError(f"`{field_name}`: {error}") from error
        if parsed is not None:
            return parsed
        raise ResourceQueryError(
            f"`{field_name}` needs an ISO 8601 date and time, such as 2026-01-31T12:00:00Z."
        )
    elif isinstance(value, str):  # parse_json has refused NUL and unpaired surrogates
        return value
    expected = {"bool": "true or false", "uuid": "an id", "m2m": "an id", "text": "a string"}
    raise ResourceQueryError(f"`{field_name}` needs {expected[kind]}, not {value!r}.")


def _m2m_condition(name: str, ids: list | None) -> Q:
    """Resources related to any of `ids` (or to anything, when None), without duplicate rows."""
    through, source, target = relation_columns(name)
    rows = through.objects.filter(**{source: OuterRef("pk")})
    if ids is not None:
        rows = rows.filter(**{f"{target}__in": ids})
    return Q(Exists(rows))


#: `{"field": "custom:Jira ticket", ...}` filters on a custom property's value.
CUSTOM_FIELD_PREFIX = "custom:"
CUSTOM_OPERATORS = ("exact", "contains", "is_set")


def _custom_condition(node: dict, name: str) -> Q:
    """Resources whose value of the custom property `name` matches, via EXISTS."""
    operator, value = node.get("operator"), node.get("value")
    custom_property = CustomProperty.objects.filter(name=name).first()
    if custom_property is None:
        raise ResourceQueryError(f"Unknown custom property {name!r}.")
    if operator not in CUSTOM_OPERATORS:
        raise ResourceQueryError(
            f"Operator {operator!r} does not apply to custom properties; use one of "
            f"{', '.join(CUSTOM_OPERATORS)}."
        )
    values = CustomPropertyValue.objects.filter(
        resource_id=OuterRef("pk"), property=custom_property
    )
    if operator == "is_set":
        if value is None:
            value = True
        if not isinstance(value, bool):
            raise ResourceQueryError("`is_set` takes true, false or null (= true).")
        return Q(Exists(values)) if value else ~Q(Exists(values))
    if "value" not in node:
        raise ResourceQueryError(f"The `{operator}` condition on `{name}` needs a `value`.")
    if operator == "contains":
        if not isinstance(value, str):
            raise ResourceQueryError("`contains` on a custom property takes a string.")
        return Q(Exists(values.filter(value__icontains=value)))
    if isinstance(value, dict | list):
        raise ResourceQueryError("A custom property's value is text, a number or true/false.")
    return Q(Exists(values.filter(value=value)))


def _field_condition(node: dict) -> Q:
    operator, name = node.get("operator"), node.get("field")
    if isinstance(name, str) and name.startswith(CUSTOM_FIELD_PREFIX):
        return _custom_condition(node, name.removeprefix(CUSTOM_FIELD_PREFIX).strip())
    if not isinstance(name, str) or name not in FIELDS:
        raise ResourceQueryError(f"Unknown field {name!r}. Fields: {', '.join(sorted(FIELDS))}.")
    field = FIELDS[name]
    if operator not in field.operators:
        raise ResourceQueryError(
            f"Operator {operator!r} does not apply to `{name}`; use one of "
            f"{', '.join(field.operators)}."
        )
    value = node.get("value")
    column = field.column

    if operator == "is_set":
        # Clients send {"operator": "is_set", "field": ..., "value": null} to mean "is set".
        if value is None:
            value = True
        if not isinstance(value, bool):
            raise ResourceQueryError("`is_set` takes true, false or null (= true).")
        if field.kind == "m2m":
            condition = _m2m_condition(column, None)
        elif field.kind == "text":
            condition = ~Q(**{column: ""})
        else:
            condition = Q(**{f"{column}__isnull": False})
        return condition if value else ~condition

    if "value" not in node:
        raise ResourceQueryError(f"The `{operator}` condition on `{name}` needs a `value`.")

    if operator == "in":
        if not isinstance(value, list) or not value:
            raise ResourceQueryError(f"`in` on `{name}` takes a non-empty list.")
        if len(value) > 1000:
            raise ResourceQueryError("`in` takes at most 1000 values.")
        values = [_value(name, field, item) for item in value]
        if field.kind == "m2m":
            return _m2m_condition(column, values)
        return Q(**{f"{column}__in": values})

    converted = _value(name, field, value)
    if field.kind == "m2m":  # exact and contains: related to this id
        return _m2m_condition(column, [converted])
    lookup = {"exact": "", "contains": "__icontains", "gte": "__gte", "lte": "__lte"}[operator]
    return Q(**{f"{column}{lookup}": converted})


def compile_filter(node: Any, *, depth: int = 0, budget: list[int] | None = None) -> Q:
    """Turn a filter tree into a Q object, checking every node."""
    budget = budget if budget is not None else [MAX_CONDITIONS]
    if depth > MAX_DEPTH:
        raise ResourceQueryError(f"The filter is nested more than {MAX_DEPTH} levels deep.")
    if not isinstance(node, dict):
        raise ResourceQueryError("A filter is a JSON object with an `operator`.")
    budget[0] -= 1
    if budget[0] < 0:
        raise ResourceQueryError(f"The filter has more than {MAX_CONDITIONS} conditions.")
    operator = node.get("operator")
    if operator in LOGICAL_OPERATORS:
        operands = node.get("operands")
        if not isinstance(operands, list) or not operands:
            raise ResourceQueryError(f"`{operator}` needs a non-empty list of `operands`.")
        if operator == "not" and len(operands) != 1:
            raise ResourceQueryError("`not` takes exactly one operand.")
        conditions = [compile_filter(o, depth=depth + 1, budget=budget) for o in operands]
        if operator == "not":
            return ~conditions[0]
        combined = conditions[0]
        for condition in conditions[1:]:
            combined = combined & condition if operator == "and" else combined | condition
        return combined
    if operator in FIELD_OPERATORS:
        return _field_condition(node)
    raise ResourceQueryError(
        f"Unknown operator {operator!r}. Operators: "
        f"{', '.join(FIELD_OPERATORS + LOGICAL_OPERATORS)}."
    )


def _sort_column(node: Any, *, default_order: str) -> str:
    """One sort key: a field name, or {"field": ..., "order": ...}."""
    if isinstance(node, str):
        node = {"field": node, "order": default_order}
    if not isinstance(node, dict):
        raise ResourceQueryError('A sort key is a field name or {"field", "order"}.')
    unknown = set(node) - {"field", "order", "tie_breaker"}
    if unknown:
        raise ResourceQueryError(f"Unknown sort keys: {', '.join(sorted(unknown))}.")
    name, order = node.get("field"), node.get("order", default_order)
    if name not in SORT_FIELDS:
        raise ResourceQueryError(
            f"Can't sort by {name!r}. Sortable fields: {', '.join(sorted(SORT_FIELDS))}."
        )
    if order not in ("asc", "desc"):
        raise ResourceQueryError("`order` is asc or desc.")
    return ("-" if order == "desc" else "") + SORT_FIELDS[name]


def compile_sort(node: Any) -> list[str]:
    """Turn `{"field", "order", "tie_breaker"}` into an order_by list; id breaks ties last.

    `tie_breaker` is a field name (sorted in the main order) or {"field", "order"}.
    """
    if node is None:
        return ["title", "id"]
    if not isinstance(node, dict):
        raise ResourceQueryError("`sort` is a JSON object with a `field`.")
    main = _sort_column(node, default_order="asc")
    columns = [main]
    if node.get("tie_breaker") is not None:
        order = "desc" if main.startswith("-") else "asc"
        columns.append(_sort_column(node["tie_breaker"], default_order=order))
    if not any(column.lstrip("-") == "id" for column in columns):
        columns.append(("-" if main.startswith("-") else "") + "id")
    return columns


def _node(value: Any, name: str) -> Any:
    """A filter or sort as sent: JSON text (a query parameter, a form field) or, in a JSON
    body, the JSON itself (whose parser has refused NUL and unpaired surrogates)."""
    return parse_json(value, name) if isinstance(value, str) else value


def apply_resource_query(queryset: QuerySet, *, filter_: Any, sort: Any) -> QuerySet:
    """Filter and sort `queryset` as the request asks. Raises ResourceQueryError."""
    filter_node = _node(filter_, "filter")
    sort_node = _node(sort, "sort")
    if filter_node is not None:
        queryset = queryset.filter(compile_filter(filter_node))
    return queryset.order_by(*compile_sort(sort_node))
