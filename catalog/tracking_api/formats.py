"""One parser per wire format: JSON bodies in, `TrackedEvent`s and per-event errors out.

- `segment`: Segment's HTTP tracking API (`/v1/batch`, `/v1/track`, `/v1/identify`, ...).
- `canvas`: a single event, `{version, type, event, properties, timestamp}` (seed 000).
- `prime`: a batch, `{"events": [{eventType, sessionId, properties, scope, timeStamp}]}`
  (seed 002).
- `flameup`: a single event, `{userId, event, properties, timestamp}` (seed 004).

A parser never raises for one bad event: it reports it (`Problem`) and goes on with the rest.
"""

import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models.titles import clean_title
from catalog.services.ingest import MAX_NAME, TrackedEvent
from catalog.services.ingest import Rejection as Problem
from catalog.timestamps import OutOfRange, parse_moment

#: Most events one request may carry.
MAX_BATCH = 500
#: Largest single event, as JSON.
MAX_EVENT_BYTES = 32 * 1024
_SUSPECT_ESCAPES = (b"\\u0000", *(b"\\ud" + bytes([c]) for c in b"89abcdef"))
SEGMENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")


class BadRequest(Exception):
    """The whole request is unusable; the message says why."""


@dataclass
class Parsed:
    events: list[TrackedEvent]
    problems: list[Problem]

    def add(self, event: TrackedEvent, errors: list[str]) -> None:
        """Keep `event`, or report it when its checks found `errors`."""
        if errors:
            self.problems.append(Problem(event.index, event.name, errors))
        else:
            self.events.append(event)


class _Checks:
    """Per-event checks that are only worth doing when the body could fail them."""

    def __init__(self, body: bytes):
        self.size = len(body) > MAX_EVENT_BYTES
        # A NUL or a lone surrogate can only come as an escape; PostgreSQL stores neither.
        lowered = body.lower() if b"\\u" in body else b""
        self.text = any(marker in lowered for marker in _SUSPECT_ESCAPES)

    def errors(self, item) -> list[str]:
        if not (self.size or self.text):
            return []
        try:
            text = json.dumps(item, ensure_ascii=False)
            size = len(text.encode())
        except UnicodeEncodeError:
            return ["Text must be valid Unicode (a lone surrogate escape was found)."]
        if self.size and size > MAX_EVENT_BYTES:
            return [f"The event is {size} bytes; an event may have at most {MAX_EVENT_BYTES}."]
        if "\\u0000" in text:
            return ["Text can't contain NUL characters (\\u0000)."]
        return []


def _text(item: dict, key: str, errors: list[str], *, required=False) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            errors.append(f"{key}: this field is required.")
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # ids are often numbers
    if not isinstance(value, str):
        errors.append(f"{key}: must be a string.")
        return ""
    if len(value) > MAX_NAME:
        errors.append(f"{key}: at most {MAX_NAME} characters.")
        return ""
    return value


def _name(item: dict, key: str, errors: list[str], *, required=False) -> str:
    """An event's name in the form the catalog keeps titles in, so `"Signed In "` is the
    event `Signed In` (see `catalog.models.titles`)."""
    value = _text(item, key, errors, required=required)
    if not value:
        return value
    try:
        return clean_title(value)
    except ValidationError as error:
        errors.append(f"{key}: {error.messages[0]}")
        return ""


def _time(item: dict, key: str, errors: list[str]) -> dt.datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    try:
        parsed = parse_moment(value) if isinstance(value, str) else None
    except OutOfRange as error:
        errors.append(f"{key}: {error}")
        return None
    if parsed is None:
        errors.append(f"{key}: not an ISO 8601 date and time, such as 2024-12-25T10:00:00Z.")
    return parsed


def _properties(item: dict, key: str, errors: list[str]) -> dict:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{key}: must be an object.")
        return {}
    properties = {}
    for name, item_value in value.items():
        try:
            clean = clean_title(name)
        except ValidationError as error:
            errors.append(f"{key}: property {name[:MAX_NAME]!r}: {error.messages[0]}")
            break
        if not clean or len(clean) > MAX_NAME:
            errors.append(f"{key}: property names must have 1 to {MAX_NAME} characters.")
            break
        properties[clean] = item_value
    return properties


def _batch(items, key: str) -> list:
    if not isinstance(items, list):
        raise BadRequest(f"{key}: must be a list of events.")
    if len(items) > MAX_BATCH:
        raise BadRequest(f"{key}: {len(items)} events; a request may carry at most {MAX_BATCH}.")
    return items


def _object(body) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def segment(body, raw: bytes, call: str | None) -> Parsed:
    """`/v1/batch` (`call` None) or a single `/v1/<call>`."""
    body = _object(body)
    checks = _Checks(raw)
    items = _batch(body.get("batch"), "batch") if call is None else [body]
    parsed = Parsed([], [])
    for index, item in enumerate(items):
        errors: list[str] = []
        if not isinstance(item, dict):
            parsed.problems.append(Problem(index, "", ["Each event must be a JSON object."]))
            continue
        kind = call or item.get("type")
        if kind not in SEGMENT_TYPES:
            errors.append(f"type: must be one of {', '.join(SEGMENT_TYPES)}.")
            kind = "track"
        name_key = {"track": "event", "page": "name", "screen": "name"}.get(kind)
        name = _name(item, name_key, errors, required=kind == "track") if name_key else ""
        props_key = "traits" if kind in ("identify", "group") else "properties"
        props = _properties(item, props_key, errors)
        if kind == "group" and (group_id := item.get("groupId")) is not None:
            props = {**props, "groupId": group_id}
        if kind == "alias" and (previous := item.get("previousId")) is not None:
            props = {**props, "previousId": previous}
        user_id = _text(item, "userId", errors)
        anonymous_id = _text(item, "anonymousId", errors)
        if not user_id and not anonymous_id:
            errors.append("userId or anonymousId is required.")
        event = TrackedEvent(
            format="segment",
            type=kind,
            name=name,
            properties=props,
            sent_at=_time(item, "timestamp", errors),
            user_id=user_id,
            anonymous_id=anonymous_id,
            message_id=_text(item, "messageId", errors),
            index=index,
        )
        parsed.add(event, errors + checks.errors(item))
    return parsed


def canvas(body, raw: bytes) -> Parsed:
    """Seed 000: one event, `{version, type: "event", event, properties, timestamp}`."""
    item = _object(body)
    errors: list[str] = []
    if item.get("type", "event") != "event":
        errors.append('type: must be "event".')
    name = _name(item, "event", errors, required=True)
    event = TrackedEvent(
        format="canvas",
        name=name,
        properties=_properties(item, "properties", errors),
        sent_at=_time(item, "timestamp", errors),
        user_id=_text(item, "userId", errors),
        anonymous_id=_text(item, "anonymousId", errors),
        message_id=_text(item, "messageId", errors),
    )
    return _single(event, errors + _Checks(raw).errors(item))


def flameup(body, raw: bytes) -> Parsed:
    """Seed 004: one event, `{userId, event, properties, timestamp}` (timestamp: now)."""
    item = _object(body)
    errors: list[str] = []
    event = TrackedEvent(
        format="flameup",
        name=_name(item, "event", errors, required=True),
        properties=_properties(item, "properties", errors),
        sent_at=_time(item, "timestamp", errors) or timezone.now(),
        user_id=_text(item, "userId", errors, required=True),
    )
    return _single(event, errors + _Checks(raw).errors(item))


def _single(event: TrackedEvent, errors: list[str]) -> Parsed:
    parsed = Parsed([], [])
    parsed.add(event, errors)
    return parsed


def prime(body, raw: bytes, client_id: str) -> Parsed:
    """Seed 002: `{"events": [...]}` with `eventType`, `sessionId`, `scope`, `timeStamp`."""
    body = _object(body)
    checks = _Checks(raw)
    parsed = Parsed([], [])
    for index, item in enumerate(_batch(body.get("events"), "events")):
        if not isinstance(item, dict):
            parsed.problems.append(Problem(index, "", ["Each event must be a JSON object."]))
            continue
        errors: list[str] = []
        name = _name(item, "eventType", errors, required=True)
        scope = item.get("scope")
        if scope is not None and str(scope) != client_id:
            errors.append("scope: must be the same as the X-Client-ID header.")
        event = TrackedEvent(
            format="prime",
            name=name,
            properties=_properties(item, "properties", errors),
            sent_at=_time(item, "timeStamp", errors),
            anonymous_id=_text(item, "sessionId", errors),
            user_id=_text(item, "userId", errors),
            index=index,
        )
        parsed.add(event, errors + checks.errors(item))
    return parsed
