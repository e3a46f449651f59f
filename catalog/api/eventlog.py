"""`GET /api/v1/event/log`: the received-event log, read as seed 003's Events API reads events.

Newest first by default, paged with `from` and `size` up to 10,000 events deep. The count is
exact up to `COUNT_CAP` and capped beyond, so it costs at most `COUNT_CAP + 1` index entries
however many events a week of tracking holds. Two queries at most (the page, and the count
when the page alone doesn't tell it), whatever the parameters.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.authentication import ApiKeyAuthentication, AuthTokenAuthentication
from catalog.api.pagination import count_at_most, count_told_by_page
from catalog.models import ApiKey, LoggedEvent
from catalog.policy import Action, may
from catalog.timestamps import OutOfRange, parse_moment

#: The count is exact up to here; past it the answer says `count_capped`.
COUNT_CAP = 10_000
#: How deep `from + size` may page (the seed's 10,000 results).
MAX_WINDOW = 10_000
MAX_SIZE = 100
DEFAULT_SIZE = 10
#: Longest event name the log stores (LoggedEvent.name), and most names `exclude` takes.
MAX_NAME = 255
MAX_EXCLUDED = 100
#: Digits an integer parameter may have: anything longer is out of range anyway, and
#: int() of a megabyte of digits is slow.
_INTEGER = re.compile(r"[0-9]{1,9}")

RESULT_FIELDS = (
    "id",
    "name",
    "type",
    "integration_id",
    "received_at",
    "sent_at",
    "user_id",
    "anonymous_id",
    "message_id",
    "properties",
    "format",
)


@dataclass(frozen=True)
class LogQuery:
    """The parameters of one read, checked."""

    integration_id: uuid.UUID | None = None
    include: str | None = None
    exclude: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    descending: bool = True
    offset: int = 0
    size: int = DEFAULT_SIZE


class _Bad(ValueError):
    pass


def _text(value: str, what: str) -> str:
    if "\x00" in value or not value.isprintable():
        raise _Bad(f"{what} may not hold control characters.")
    return value


def _name(value: str) -> str:
    value = _text(value.strip(), "An event name")
    if not value:
        raise _Bad("Give an event name.")
    if len(value) > MAX_NAME:
        raise _Bad(f"An event name has at most {MAX_NAME} characters.")
    return value


def _integer(value: str, *, low: int, high: int) -> int:
    value = value.strip()
    if not _INTEGER.fullmatch(value):
        raise _Bad(f"Must be a whole number from {low} to {high}.")
    number = int(value)
    if not low <= number <= high:
        raise _Bad(f"Must be a whole number from {low} to {high}.")
    return number


def _moment(value: str) -> dt.datetime:
    """An ISO 8601 date (its midnight) or date and time, in UTC when it names no offset."""
    try:
        moment = parse_moment(_text(value.strip(), "A date"))
    except OutOfRange as error:
        raise _Bad(str(error)) from error
    if moment is None:  # not ISO 8601, or 2026-02-30
        raise _Bad("Must be a valid ISO 8601 date or date and time, e.g. 2026-01-02.")
    return moment


def parse_log_query(params) -> LogQuery:
    """Check the query parameters; ValidationError naming every wrong one.

    A parameter given twice counts once, its last value; an empty one is not given.
    """
    errors: dict[str, list[str]] = {}
    values: dict = {}

    def check(param: str, parse, key: str | None = None) -> None:
        raw = params.get(param)
        if raw is None or raw == "":
            return  # `?include=&sort=`, as some clients send every field: the default
        try:
            values[key or param] = parse(raw)
        except _Bad as error:
            errors[param] = [str(error)]

    def integration(raw: str) -> uuid.UUID:
        try:
            return uuid.UUID(_text(raw.strip(), "An id"))
        except ValueError as error:
            if isinstance(error, _Bad):
                raise
            raise _Bad("Must be an integration's id (a UUID).") from error

    def exclude(raw: str) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(_name(name) for name in raw.split(",") if name.strip()))
        if len(names) > MAX_EXCLUDED:
            raise _Bad(f"At most {MAX_EXCLUDED} event names.")
        return names

    def sort(raw: str) -> bool:
        value = raw.strip().lower()
        if value not in {"asc", "desc"}:
            raise _Bad("Must be asc or desc.")
        return value == "desc"

    check("integration_id", integration)
    check("include", _name)
    check("exclude", exclude)
    check("start", _moment)
    check("end", _moment)
    check("sort", sort, "descending")
    check("from", lambda raw: _integer(raw, low=0, high=MAX_WINDOW - 1), "offset")
    check("size", lambda raw: _integer(raw, low=1, high=MAX_SIZE))
    if not errors:
        offset, size = values.get("offset", 0), values.get("size", DEFAULT_SIZE)
        if offset + size > MAX_WINDOW:
            errors["from"] = [
                f"from + size may be at most {MAX_WINDOW:,}; narrow the search with start and "
                "end instead."
            ]
    if errors:
        raise ValidationError(errors)
    return LogQuery(**values)


def logged_events(query: LogQuery) -> QuerySet:
    """The events `query` matches, unordered (the count needs no order)."""
    events = LoggedEvent.objects.order_by()
    if query.integration_id is not None:
        events = events.filter(integration_id=query.integration_id)
    if query.include is not None:
        events = events.filter(name=query.include)
    if query.exclude:
        events = events.exclude(name__in=query.exclude)
    if query.start is not None:
        events = events.filter(received_at__gte=query.start)
    if query.end is not None:
        events = events.filter(received_at__lt=query.end)
    return events


def read_log(query: LogQuery) -> tuple[list[dict], int, bool]:
    """One page of events (dicts of RESULT_FIELDS), the count, and whether it is capped."""
    events = logged_events(query)
    order = ("-received_at", "-id") if query.descending else ("received_at", "id")
    page = list(
        events.order_by(*order).values(*RESULT_FIELDS)[query.offset : query.offset + query.size]
    )
    told = count_told_by_page(query.offset, len(page), query.size)
    if told is not None:
        return page, told, False
    count = count_at_most(events, COUNT_CAP)
    if count > COUNT_CAP:
        return page, COUNT_CAP, True
    return page, count, False


class LoggedEventSerializer(serializers.Serializer):
    """An event as the catalog received it from a tracker, with its properties."""

    id = serializers.UUIDField()
    event = serializers.CharField(source="name", help_text="The event's name.")
    type = serializers.CharField(help_text="track, identify, page, screen, group, alias...")
    integration_id = serializers.UUIDField()
    received_at = serializers.DateTimeField(help_text="When the catalog received it (UTC).")
    sent_at = serializers.DateTimeField(allow_null=True, help_text="The sender's timestamp.")
    user_id = serializers.CharField()
    anonymous_id = serializers.CharField(help_text="The anonymous or session id.")
    message_id = serializers.CharField()
    properties = serializers.JSONField()
    format = serializers.CharField(help_text="The wire format it came in.")


EventLogPageSerializer = inline_serializer(
    name="EventLogPage",
    fields={
        "count": serializers.IntegerField(
            help_text=f"Events matching, exact up to {COUNT_CAP:,}; {COUNT_CAP:,} beyond."
        ),
        "count_capped": serializers.BooleanField(
            help_text=f"True when more than {COUNT_CAP:,} events match."
        ),
        "from": serializers.IntegerField(),
        "size": serializers.IntegerField(),
        "results": LoggedEventSerializer(many=True),
    },
)
type(EventLogPageSerializer).__doc__ = (
    "A page of the received events: how many match, the window asked for (`from`, `size`), "
    "and the events in it."
)


class MayReadEventLog(permissions.BasePermission):
    """Editors and admins (the policy's rule for tracking data: payloads may be personal)."""

    message = "Only editors and admins can read the event log."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        return may(user, Action.VIEW, LoggedEvent, api_key=api_key)


def _parameter(name: str, type_, description: str, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, **kwargs)


@extend_schema(
    tags=["Event log"],
    summary="Read the received-event log",
    description=(
        "The events trackers sent in the last `EVENT_LOG_RETENTION_DAYS` days (7 by default), "
        "newest first unless `sort=asc`, as seed 003's Events API: page with `from` and "
        f"`size`, up to {MAX_WINDOW:,} events deep. Editors and admins only. The API key may "
        "also go in an `auth-token` header."
    ),
    parameters=[
        _parameter("integration_id", OpenApiTypes.UUID, "Only this integration's events."),
        _parameter("include", OpenApiTypes.STR, "Only events of this name."),
        _parameter(
            "exclude",
            OpenApiTypes.STR,
            f"Comma-separated event names to leave out (at most {MAX_EXCLUDED}).",
        ),
        _parameter(
            "start",
            OpenApiTypes.STR,
            "Events received at or after this ISO 8601 date or date and time (UTC when no "
            "offset is given), e.g. 2026-01-02 or 2026-01-02T10:00:00Z.",
        ),
        _parameter("end", OpenApiTypes.STR, "Events received before this date or date and time."),
        _parameter(
            "sort",
            OpenApiTypes.STR,
            "By time received (then id): desc (the default) or asc.",
            enum=["asc", "desc"],
        ),
        _parameter("from", OpenApiTypes.INT, "Events to skip (default 0); from + size <= 10,000."),
        _parameter("size", OpenApiTypes.INT, f"Events per page, 1 to {MAX_SIZE} (default 10)."),
    ],
    responses={
        200: EventLogPageSerializer,
        400: OpenApiResponse(description="A parameter is wrong; the body names it."),
        401: OpenApiResponse(description="No API key, or a wrong one."),
        403: OpenApiResponse(description="Viewers may not read the event log."),
    },
    examples=[
        OpenApiExample(
            "A page",
            value={
                "count": 1,
                "count_capped": False,
                "from": 0,
                "size": 10,
                "results": [
                    {
                        "id": "0b9f0c3e-5a55-4d0b-9a59-0e6a3b1f4c2d",
                        "event": "Order Completed",
                        "type": "track",
                        "integration_id": "6f1c2a0e-3b7d-4a52-8c1e-2d4f5a6b7c8d",
                        "received_at": "2026-01-02T10:00:00.123456Z",
                        "sent_at": "2026-01-02T09:59:59Z",
                        "user_id": "user-42",
                        "anonymous_id": "",
                        "message_id": "msg-1",
                        "properties": {"total": 12.5},
                        "format": "segment",
                    }
                ],
            },
            response_only=True,
        )
    ],
)
class EventLogView(APIView):
    """Seed 003's read API over the received-event log."""

    authentication_classes = [ApiKeyAuthentication, AuthTokenAuthentication, SessionAuthentication]
    permission_classes = [MayReadEventLog]
    policy_model = LoggedEvent

    def get(self, request):
        query = parse_log_query(request.query_params)
        page, count, capped = read_log(query)
        return Response(
            {
                "count": count,
                "count_capped": capped,
                "from": query.offset,
                "size": query.size,
                "results": LoggedEventSerializer(page, many=True).data,
            }
        )
