"""Keys, limits and ugly input: every refusal is JSON with the right status, never a 500."""

import gzip
import json

import pytest

from catalog.models import LoggedEvent, WriteKey
from catalog.services.context import ChangeContext
from catalog.services.writekeys import write_key_revoke
from catalog.tracking_api.limits import MAX_BODY_BYTES, take_token
from tests.ingest.conftest import track


def test_missing_wrong_and_revoked_keys_are_401(send, client):
    response = client.post("/v1/batch", {"batch": []}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"success": False, "error": "A write key is required."}
    assert response["WWW-Authenticate"] == 'Basic realm="ingest"'
    response = send.segment({"batch": [track("A")]}, secret="wk_123456789012_wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid or revoked write key."
    write_key_revoke(ctx=ChangeContext.for_system(), key=WriteKey.objects.get())
    assert send.segment({"batch": [track("A")]}).status_code == 401
    assert not LoggedEvent.objects.exists()


@pytest.mark.parametrize(
    "header", ["Basic !!!", "Basic " + "w" * 10, "Bearer x", "Basic", "Basic Zm9vOg=="]
)
def test_malformed_authorization_is_401(send, header):
    response = send.post("/v1/batch", {"batch": [track("A")]}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_an_api_key_is_not_a_write_key(send, admin_user):
    from catalog.services.keys import api_key_create

    _, secret = api_key_create(ctx=ChangeContext.for_system(), user=admin_user)
    assert send.segment({"batch": [track("A")]}, secret=secret).status_code == 401


def test_body_over_1_mb_is_413(send):
    body = {"batch": [track("A", {"blob": "x" * (MAX_BODY_BYTES + 10)})]}
    response = send.segment(body)
    assert response.status_code == 413
    assert response.json() == {
        "success": False,
        "error": "The request body is over the 1 MB limit.",
    }


def test_gzip_bomb_is_413_and_bad_gzip_400(send):
    inflated = json.dumps({"batch": [track("A", {"blob": "x" * (2 * MAX_BODY_BYTES)})]})
    response = send.segment(None, raw=inflated.encode(), gzipped=True)
    assert response.status_code == 413
    response = send.post(
        "/v1/batch",
        None,
        raw=b"not gzip",
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION="Basic x",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "The body isn't valid gzip."
    truncated = gzip.compress(json.dumps({"batch": []}).encode())[:-8]
    response = send.segment(None, raw=truncated, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    response = send.segment(None, raw=b"{}", HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 400
    assert "br" in response.json()["error"]


def test_more_than_500_events_is_400_naming_the_limit(send):
    response = send.segment({"batch": [track("A")] * 501})
    assert response.status_code == 400
    assert response.json()["error"] == "batch: 501 events; a request may carry at most 500."
    response = send.prime({"events": [{"eventType": "A"}] * 501})
    assert response.status_code == 400
    assert "at most 500" in response.json()["error"]


def test_event_over_32_kb_is_rejected_alone(send):
    big = track("Big", {"blob": "x" * 40_000})
    response = send.segment({"batch": [track("Small"), big]})
    assert response.status_code == 200
    (rejected,) = response.json()["rejected"]
    assert rejected["index"] == 1
    assert rejected["errors"][0].endswith("an event may have at most 32768.")
    assert list(LoggedEvent.objects.values_list("name", flat=True)) == ["Small"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "Malformed JSON"),
        (b"\xff\xfe{}", "The body must be UTF-8."),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[1, 2]", "The body must be a JSON object."),
        (b'{"batch": {}}', "batch: must be a list of events."),
        (
            b'{"batch": [{"type": "track", "event": "A", "userId": "u", "properties": {"n": '
            + b"9" * 5000
            + b"}}]}",
            "Malformed JSON",
        ),
        (b"", "Malformed JSON"),
        (
            b'{"batch": [{"type": "track", "event": "A", "userId": "u", "properties": '
            b'{"n": 1e400}}]}',
            "a number is out of range",
        ),
        (
            b'{"batch": [{"type": "track", "event": "A", "userId": "u", "properties": '
            b'{"n": NaN}}]}',
            "NaN is not a JSON value",
        ),
        (b'{"batch": [], "x": -Infinity}', "-Infinity is not a JSON value"),
    ],
)
def test_unusable_bodies_are_400_naming_the_problem(send, raw, message):
    response = send.segment(None, raw=raw)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    "properties",
    [{"text": "a\u0000b"}, {"a\u0000": 1}, {"text": "\ud800"}],
)
def test_nul_and_lone_surrogates_reject_the_event(send, properties):
    raw = json.dumps({"batch": [track("Bad", properties), track("Good")]}).encode()
    response = send.segment(None, raw=raw)
    assert response.status_code == 200
    (rejected,) = response.json()["rejected"]
    assert rejected["index"] == 0
    assert list(LoggedEvent.objects.values_list("name", flat=True)) == ["Good"]


def test_huge_numbers_and_long_names(send):
    response = send.segment(
        {
            "batch": [
                track("Numbers", {"big": 10**30, "small": -1e308, "ok": 1}),
                track("x" * 256),
                track("Props", {"p" * 256: 1}),
            ]
        }
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert body["rejected"][0]["errors"] == ["event: at most 255 characters."]
    assert LoggedEvent.objects.get().properties["big"] == 10**30


def test_get_is_405(client):
    response = client.get("/v1/batch")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "Send events with POST."


def test_rate_limit_answers_429_with_retry_after(send, settings):
    # A token every 100 s: none comes back while the test runs, however slow the machine.
    settings.INGEST_RATE_PER_SECOND = 0.01
    settings.INGEST_BURST = 3
    statuses = [send.segment({"batch": [track("A")]}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = send.segment({"batch": [track("A")]})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many requests" in response.json()["error"]
    assert LoggedEvent.objects.count() == 3


def test_token_bucket_refills_at_the_rate(settings):
    settings.INGEST_RATE_PER_SECOND = 10
    settings.INGEST_BURST = 5
    now = 1000.0
    assert all(take_token("k", now=now).allowed for _ in range(5))
    refused = take_token("k", now=now)
    assert not refused.allowed and refused.retry_after == 1
    assert take_token("k", now=now + 0.1).allowed  # one token back after 1/rate s
    assert not take_token("k", now=now + 0.1).allowed
    assert take_token("other", now=now).allowed  # buckets are per key
