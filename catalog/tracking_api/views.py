"""The ingestion endpoints: a write key, the limits, a wire format, then the shared pipeline.

Every answer is JSON. A wrong or revoked key is a 401, a body over 1 MB a 413, too many
requests a 429 with Retry-After, an unusable body a 400 naming the problem; in a batch the
good events are accepted and the bad ones reported.
"""

import base64
import binascii
import uuid

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from catalog.api.parsers import JSONTextError, load_json
from catalog.models import WriteKey
from catalog.services.context import ChangeContext, new_request_id
from catalog.services.ingest import IngestResult, ingest
from catalog.services.writekeys import write_key_authenticate
from catalog.tracking_api import formats
from catalog.tracking_api.limits import BadBody, BodyTooLarge, read_body, take_token


class Refused(Exception):
    def __init__(self, status: int, message: str, **headers):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def _answer(status: int, body: dict, **headers) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _key(secret: str | None, *, integration_id: str | None = None) -> WriteKey:
    if not secret:
        raise Refused(401, "A write key is required.", WWW_Authenticate='Basic realm="ingest"')
    key = write_key_authenticate(secret.strip())
    if key is None:
        raise Refused(401, "Invalid or revoked write key.")
    if integration_id is not None and str(key.integration_id) != integration_id.strip().lower():
        raise Refused(401, "This write key belongs to another integration.")
    return key


def _bearer(request) -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret if scheme.lower() == "bearer" else None


def _basic_user(request) -> str | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        raise Refused(401, "Invalid Basic authorization header.") from None


def _json(raw: bytes):
    """The body as JSON, within the API's limits: depth, number size, no NaN or Infinity
    (which no database's JSON can store)."""
    try:
        return load_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise formats.BadRequest("The body must be UTF-8.") from None
    except JSONTextError as error:
        raise formats.BadRequest(f"Malformed JSON: {error}") from None


def _limited(request, key: WriteKey) -> None:
    verdict = take_token(key.pk)
    if not verdict.allowed:
        raise Refused(
            429,
            "Too many requests for this write key; retry after the time given.",
            Retry_After=str(verdict.retry_after),
        )


def _receive(request, parse, *, key_from_body=False, **key_args):
    """Read, authenticate, limit and parse a request; returns (key, parsed)."""
    raw = read_body(request)
    if key_from_body:
        # Segment's clients may send the key in the body instead of the header.
        secret = _basic_user(request)
        body = _json(raw)
        if not secret and isinstance(body, dict) and isinstance(body.get("writeKey"), str):
            secret = body["writeKey"]
        key = _key(secret)
        _limited(request, key)
    else:
        key = _key(**key_args)
        _limited(request, key)
        body = _json(raw)
    return key, parse(body, raw)


def _endpoint(view):
    """Turn the refusals of any step into their JSON answers."""

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            response = _answer(405, {"success": False, "error": "Send events with POST."})
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except Refused as refused:
            return _answer(
                refused.status, {"success": False, "error": refused.message}, **refused.headers
            )
        except BodyTooLarge:
            return _answer(
                413, {"success": False, "error": "The request body is over the 1 MB limit."}
            )
        except (BadBody, formats.BadRequest) as error:
            return _answer(400, {"success": False, "error": str(error)})

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _run(key: WriteKey, parsed: formats.Parsed, request) -> IngestResult:
    request_id = request.headers.get("X-Request-ID", "")[:64] or new_request_id()
    ctx = ChangeContext.for_write_key(key.integration, request_id)
    return ingest(ctx=ctx, events=parsed.events)


def _rejected(parsed: formats.Parsed, result: IngestResult) -> list[dict]:
    rows = [p.as_dict() for p in parsed.problems] + [r.as_dict() for r in result.rejected]
    return sorted(rows, key=lambda row: row["index"])


def _segment(request, call: str | None):
    key, parsed = _receive(
        request, lambda body, raw: formats.segment(body, raw, call), key_from_body=True
    )
    result = _run(key, parsed, request)
    rejected = _rejected(parsed, result)
    if rejected and not result.accepted and not result.duplicates:
        return _answer(
            400, {"success": False, "error": "No event was accepted.", "rejected": rejected}
        )
    body = {"success": True}
    if rejected:
        body["rejected"] = rejected
    return _answer(200, body)


@_endpoint
def segment_batch(request):
    """Segment's `POST /v1/batch`: `{"batch": [...]}`, the write key as Basic user name."""
    return _segment(request, None)


def segment_call(call: str):
    @_endpoint
    def view(request):
        return _segment(request, call)

    view.__name__ = f"segment_{call}"
    view.__doc__ = f"Segment's `POST /v1/{call}`: one {call} call."
    return view


def _single(key, parsed, request, *, success: dict):
    result = _run(key, parsed, request)
    rejected = _rejected(parsed, result)
    if rejected:
        errors = rejected[0]["errors"]
        return _answer(400, {"success": False, "error": " ".join(errors), "errors": errors})
    if result.duplicates:
        return _answer(200, {"success": True, "duplicate": True})
    return _answer(200, {"success": True, **success, "event_id": result.event_ids[0]})


@_endpoint
def canvas_event(request):
    """Seed 000's `POST /v1/event`: one event, the write key in `X-Auth-Token`."""
    key, parsed = _receive(request, formats.canvas, secret=request.headers.get("X-Auth-Token"))
    return _single(key, parsed, request, success={})


@_endpoint
def prime_events(request):
    """Seed 002's `POST /v1/events`: `{"events": [...]}`, `X-Client-ID` (the integration id)
    and `X-Client-Access-Token` (its write key)."""
    client_id = request.headers.get("X-Client-ID", "")
    if not client_id:
        raise Refused(401, "The X-Client-ID header (the integration id) is required.")
    key, parsed = _receive(
        request,
        lambda body, raw: formats.prime(body, raw, client_id),
        secret=request.headers.get("X-Client-Access-Token"),
        integration_id=client_id,
    )
    result = _run(key, parsed, request)
    rejected = _rejected(parsed, result)
    status = 400 if rejected and not result.accepted else 200
    return _answer(status, {"updated": result.accepted, "rejected": rejected})


@_endpoint
def flameup_events(request, workspace_id: str):
    """Seed 004's `POST /api/v1/workspaces/{workspaceId}/events`: Bearer write key."""
    try:
        uuid.UUID(workspace_id)
    except ValueError:
        raise Refused(404, "No workspace has this id.") from None
    key, parsed = _receive(
        request, formats.flameup, secret=_bearer(request), integration_id=workspace_id
    )
    return _single(key, parsed, request, success={})
