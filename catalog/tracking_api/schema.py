"""The ingestion endpoints in the OpenAPI schema (a drf-spectacular postprocessing hook).

The tracking endpoints are plain Django views, so drf-spectacular doesn't see them. This hook
adds one operation per route of `catalog.tracking_api.urls` (the paths come from reversing the
URLconf, the limits from the code that enforces them), with the "Ingestion" tag, each wire
format's request and answers, and the write-key schemes each endpoint accepts.
"""

from urllib.parse import unquote

from django.conf import settings
from django.urls import reverse

from catalog.database_errors import RETRY_AFTER_SECONDS
from catalog.services.ingest import MAX_NAME
from catalog.tracking_api import urls
from catalog.tracking_api.formats import MAX_BATCH, MAX_EVENT_BYTES, SEGMENT_TYPES
from catalog.tracking_api.limits import MAX_BODY_BYTES

TAG = "Ingestion"
TAG_DESCRIPTION = (
    "The endpoints trackers send events to (Segment's HTTP API and the other wire formats), "
    "authenticated with an integration's write key, not an API key. See docs/INGESTION.md."
)

#: The security schemes, by name; each endpoint's requirement names some of them.
SECURITY_SCHEMES = {
    "WriteKeyBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "A write key as the HTTP Basic user name, the password empty "
        "(Segment's clients). The key may instead be sent as `writeKey` in the body.",
    },
    "WriteKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "A write key in the `X-Auth-Token` header.",
    },
    "ClientId": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Client-ID",
        "description": "The id of the integration the write key belongs to; sent together "
        "with `X-Client-Access-Token`.",
    },
    "ClientAccessToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Client-Access-Token",
        "description": "A write key of the integration named by `X-Client-ID`.",
    },
    "WriteKeyBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A write key as `Authorization: Bearer <write key>`.",
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_TEXT = {"type": "string", "maxLength": MAX_NAME}
_ID = {**_TEXT, "description": "A string; a number is accepted and read as its text."}
_NAME = {**_TEXT, "minLength": 1}
_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601, such as 2024-12-25T10:00:00Z; a time without a zone is UTC.",
}
_FREE = {"type": "object", "additionalProperties": True}


def _segment_call(kind: str, fields: dict, required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "description": f"A Segment `{kind}` call. userId or anonymousId is required; any "
        "other field Segment defines (context, integrations...) is accepted.",
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            **fields,
            "userId": _ID,
            "anonymousId": _ID,
            "messageId": {
                **_TEXT,
                "description": "A retry with the same id within 24 hours "
                "is accepted but not counted again.",
            },
            "timestamp": _TIME,
            "context": _FREE,
            "integrations": _FREE,
        },
        "required": ["type", *required],
        "additionalProperties": True,
    }


_SEGMENT_CALLS = {
    "track": {"event": _NAME, "properties": _FREE},
    "identify": {"traits": _FREE},
    "page": {"name": _TEXT, "properties": _FREE},
    "screen": {"name": _TEXT, "properties": _FREE},
    "group": {"groupId": _ID, "traits": _FREE},
    "alias": {"previousId": _ID},
}
_SEGMENT_REQUIRED = {"track": ("event",)}


def _segment_name(kind: str) -> str:
    return f"Segment{kind.capitalize()}"


_REJECTION = {
    "type": "object",
    "description": "An event that was refused, by its index in the request.",
    "properties": {
        "index": {"type": "integer"},
        "event": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["index", "event", "errors"],
}

SCHEMAS = {
    **{
        _segment_name(kind): _segment_call(kind, fields, _SEGMENT_REQUIRED.get(kind, ()))
        for kind, fields in _SEGMENT_CALLS.items()
    },
    "SegmentCall": {
        "description": "One call of a Segment batch, told apart by its `type`.",
        "oneOf": [_ref(_segment_name(kind)) for kind in SEGMENT_TYPES],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                kind: f"#/components/schemas/{_segment_name(kind)}" for kind in SEGMENT_TYPES
            },
        },
    },
    "SegmentBatch": {
        "description": "A batch of Segment calls, as Segment's libraries send it to /v1/batch.",
        "type": "object",
        "properties": {
            "batch": {"type": "array", "items": _ref("SegmentCall"), "maxItems": MAX_BATCH},
            "writeKey": {
                "type": "string",
                "description": "The write key, when it isn't sent as the Basic user name.",
            },
            "context": _FREE,
            "sentAt": _TIME,
        },
        "required": ["batch"],
        "additionalProperties": True,
    },
    "SegmentAccepted": {
        "description": "The answer to a Segment call or batch: accepted, and the calls refused.",
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "rejected": {"type": "array", "items": _ref("IngestRejection")},
        },
        "required": ["success"],
    },
    "CanvasEvent": {
        "description": "One event in the format of /v1/event.",
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "type": {"type": "string", "enum": ["event"], "default": "event"},
            "event": _NAME,
            "properties": _FREE,
            "timestamp": _TIME,
            "userId": _ID,
            "anonymousId": _ID,
            "messageId": _TEXT,
        },
        "required": ["event"],
        "additionalProperties": True,
    },
    "PrimeEvent": {
        "description": "One event of a /v1/events request.",
        "type": "object",
        "properties": {
            "eventType": _NAME,
            "sessionId": _ID,
            "userId": _ID,
            "properties": _FREE,
            "scope": {"type": "string", "description": "If given, the X-Client-ID header."},
            "timeStamp": _TIME,
        },
        "required": ["eventType"],
        "additionalProperties": True,
    },
    "PrimeEvents": {
        "description": "The body of /v1/events: a list of events.",
        "type": "object",
        "properties": {
            "events": {"type": "array", "items": _ref("PrimeEvent"), "maxItems": MAX_BATCH}
        },
        "required": ["events"],
        "additionalProperties": True,
    },
    "PrimeAnswer": {
        "description": "The answer to /v1/events: how many were accepted, and those refused.",
        "type": "object",
        "properties": {
            "updated": {"type": "integer", "description": "How many events were accepted."},
            "rejected": {"type": "array", "items": _ref("IngestRejection")},
        },
        "required": ["updated", "rejected"],
    },
    "FlameupEvent": {
        "description": "One event sent to a workspace's events endpoint.",
        "type": "object",
        "properties": {
            "userId": {**_ID, "minLength": 1},
            "event": _NAME,
            "properties": _FREE,
            "timestamp": {**_TIME, "description": f"{_TIME['description']} Missing: now."},
        },
        "required": ["userId", "event"],
        "additionalProperties": True,
    },
    "EventAccepted": {
        "description": "The answer to a single event: accepted, with its id in the event log.",
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "event_id": {"type": "string", "description": "The event's id in the event log."},
            "duplicate": {
                "type": "boolean",
                "description": "True for a retried messageId: accepted, not counted again.",
            },
        },
        "required": ["success"],
    },
    "IngestRejection": _REJECTION,
    "IngestError": {
        "type": "object",
        "description": "Every refusal of an ingestion endpoint.",
        "properties": {
            "success": {"type": "boolean", "enum": [False]},
            "error": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {"type": "string"},
                "description": "A single event's errors, when it was refused.",
            },
            "rejected": {
                "type": "array",
                "items": _ref("IngestRejection"),
                "description": "A Segment batch of which no call was accepted: each call's errors.",
            },
        },
        "required": ["success", "error"],
    },
}

_RETRY_AFTER = {"schema": {"type": "integer"}, "description": "Seconds to wait."}


def _json(schema: str | dict, description: str, **headers) -> dict:
    schema = _ref(schema) if isinstance(schema, str) else schema
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _errors(bad_request: str, bad_schema: str | dict = "IngestError") -> dict:
    return {
        "400": _json(bad_schema, bad_request),
        "401": _json(
            "IngestError",
            "No write key, a wrong or revoked one, or one of another integration.",
            **{"WWW-Authenticate": {"schema": {"type": "string"}}},
        ),
        "413": _json(
            "IngestError",
            f"The body is over {MAX_BODY_BYTES} bytes, compressed or after decompression.",
        ),
        "429": _json(
            "IngestError",
            f"More than {settings.INGEST_RATE_PER_SECOND} requests a second for this write "
            f"key, beyond a burst of {settings.INGEST_BURST}.",
            **{"Retry-After": _RETRY_AFTER},
        ),
        "503": _json(
            "IngestError",
            f"The database can't be reached (Retry-After: {RETRY_AFTER_SECONDS}): send the "
            "request again then; or a statement took too long (no Retry-After).",
            **{"Retry-After": _RETRY_AFTER},
        ),
    }


_WHOLE = (
    "The whole request is unusable (malformed JSON, not UTF-8, not an object, over "
    f"{MAX_BATCH} events, an unsupported Content-Encoding)"
)
_EVENT_RULES = (
    f"An event may have at most {MAX_EVENT_BYTES} bytes of JSON. The body may be gzipped "
    f"(`Content-Encoding: gzip`) and may have at most {MAX_BODY_BYTES} bytes."
)

_BATCH_EXAMPLE = {
    "batch": [
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "u1",
            "properties": {"revenue": 39.95},
            "messageId": "m-1",
        }
    ]
}
_CALL_EXAMPLES = {
    "track": _BATCH_EXAMPLE["batch"][0],
    "identify": {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
    "page": {"type": "page", "name": "Home", "anonymousId": "a1", "properties": {}},
    "screen": {"type": "screen", "name": "Home", "anonymousId": "a1", "properties": {}},
    "group": {"type": "group", "userId": "u1", "groupId": "g1", "traits": {}},
    "alias": {"type": "alias", "userId": "u1", "previousId": "a1"},
}


def _operation(name, summary, description, body, example, security, answers) -> dict:
    return {
        "operationId": f"ingest_{name.replace('-', '_')}",
        "summary": summary,
        "description": f"{description} {_EVENT_RULES}",
        "tags": [TAG],
        "security": security,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(body), "example": example}},
        },
        "responses": answers,
    }


def _segment_operation(name: str, call: str | None) -> dict:
    if call is None:
        summary, body, example = "Send a Segment batch", "SegmentBatch", _BATCH_EXAMPLE
        what = "Segment's batch: several calls of any type."
    else:
        summary, body = f"Send a Segment {call} call", _segment_name(call)
        what, example = f"Segment's single `{call}` call.", _CALL_EXAMPLES[call]
    return _operation(
        name,
        summary,
        f"{what} Only `track` calls feed the catalog; the others are kept in the event log.",
        body,
        example,
        [{"WriteKeyBasic": []}],
        {
            "200": _json("SegmentAccepted", "Accepted; `rejected` lists the calls refused."),
            **_errors(f"{_WHOLE}; or no call was accepted (`rejected` says why)."),
        },
    )


def _single_answers() -> dict:
    return {
        "200": _json("EventAccepted", "Accepted."),
        **_errors(f"{_WHOLE}; or the event was refused (`errors` says why)."),
    }


def operations() -> dict[str, dict]:
    """The operation of each route of `catalog.tracking_api.urls`, by route name."""
    found = {"segment-batch": _segment_operation("segment-batch", None)}
    for call in SEGMENT_TYPES:
        found[f"segment-{call}"] = _segment_operation(f"segment-{call}", call)
    found["canvas-event"] = _operation(
        "canvas-event",
        "Send one event (X-Auth-Token)",
        "One event: `{version, type, event, properties, timestamp}`.",
        "CanvasEvent",
        {"version": 1, "type": "event", "event": "Order Completed", "properties": {}},
        [{"WriteKeyHeader": []}],
        _single_answers(),
    )
    found["prime-events"] = _operation(
        "prime-events",
        "Send events (X-Client-ID and token)",
        "A batch of events. Both headers are needed: the key must belong to the integration "
        "`X-Client-ID` names. The status is 400 when no event was accepted.",
        "PrimeEvents",
        {"events": [{"eventType": "Order Completed", "sessionId": "s1", "properties": {}}]},
        [{"ClientId": [], "ClientAccessToken": []}],
        {
            "200": _json("PrimeAnswer", "Some events accepted; `rejected` lists the others."),
            **_errors(
                f"{_WHOLE}; or no event was accepted (a `PrimeAnswer`).",
                {"oneOf": [_ref("PrimeAnswer"), _ref("IngestError")]},
            ),
        },
    )
    flameup = _operation(
        "flameup-events",
        "Send one event (Bearer write key)",
        "One event: `{userId, event, properties, timestamp}`. The workspace id is the "
        "integration's id, the one the key belongs to.",
        "FlameupEvent",
        {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 39.95}},
        [{"WriteKeyBearer": []}],
        {**_single_answers(), "404": _json("IngestError", "The workspace id isn't a UUID.")},
    )
    flameup["parameters"] = [
        {
            "name": "workspace_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
            "description": "The integration's id.",
        }
    ]
    found["flameup-events"] = flameup
    return found


def route_paths() -> dict[str, str]:
    """Each ingestion route's OpenAPI path (`{name}` for its parameters), by route name."""
    paths = {}
    for pattern in urls.urlpatterns:
        params = {name: f"{{{name}}}" for name in pattern.pattern.regex.groupindex}
        paths[pattern.name] = unquote(reverse(f"{urls.app_name}:{pattern.name}", kwargs=params))
    return paths


def add_ingestion(result, generator, request, public):
    """Add the ingestion endpoints, their schemas and their security schemes."""
    found = operations()
    for name, path in route_paths().items():
        result["paths"][path] = {"post": found[name]}
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(SCHEMAS)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    tags = result.setdefault("tags", [])
    if not any(tag.get("name") == TAG for tag in tags):
        tags.append({"name": TAG, "description": TAG_DESCRIPTION})
    return result
