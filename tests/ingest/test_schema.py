"""The ingestion endpoints in the served OpenAPI schema, and a client built from it."""

import base64
import io

import pytest
from django.core.management import call_command

from catalog.tracking_api import urls
from catalog.tracking_api.formats import MAX_BATCH, SEGMENT_TYPES
from catalog.tracking_api.schema import route_paths

ERRORS = {"400", "401", "413", "429", "503"}
SECURITY = {
    "/v1/batch": [{"WriteKeyBasic": []}],
    "/v1/event": [{"WriteKeyHeader": []}],
    "/v1/events": [{"ClientId": [], "ClientAccessToken": []}],
    "/api/v1/workspaces/{workspace_id}/events": [{"WriteKeyBearer": []}],
    **{f"/v1/{call}": [{"WriteKeyBasic": []}] for call in SEGMENT_TYPES},
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_ingestion_route_is_in_the_schema(schema):
    paths = route_paths()
    assert set(paths) == {pattern.name for pattern in urls.urlpatterns}
    assert set(paths.values()) == set(SECURITY)
    for path in paths.values():
        assert set(schema["paths"][path]) == {"post"}, path


def test_each_operation_has_its_tag_security_and_errors(schema):
    schemes = schema["components"]["securitySchemes"]
    assert (schemes["WriteKeyBasic"]["type"], schemes["WriteKeyBasic"]["scheme"]) == (
        "http",
        "basic",
    )
    assert schemes["WriteKeyHeader"]["name"] == "X-Auth-Token"
    assert {schemes["ClientId"]["name"], schemes["ClientAccessToken"]["name"]} == {
        "X-Client-ID",
        "X-Client-Access-Token",
    }
    assert schemes["WriteKeyBearer"]["scheme"] == "bearer"
    # The API's own schemes are still there.
    assert {"ApiKey", "AuthToken", "cookieAuth"} <= set(schemes)
    assert "Ingestion" in [tag["name"] for tag in schema["tags"]]
    for path, security in SECURITY.items():
        operation = schema["paths"][path]["post"]
        assert operation["tags"] == ["Ingestion"], path
        assert operation["security"] == security, path
        assert operation["summary"], path
        assert {"200", *ERRORS} <= set(operation["responses"]), path
        for status in ERRORS:
            content = operation["responses"][status]["content"]["application/json"]
            assert "IngestError" in str(content["schema"]), (path, status)
    assert "Retry-After" in schema["paths"]["/v1/batch"]["post"]["responses"]["429"]["headers"]
    batch = schema["components"]["schemas"]["SegmentBatch"]
    assert batch["required"] == ["batch"] and batch["properties"]["batch"]["maxItems"] == MAX_BATCH
    assert schema["components"]["schemas"]["SegmentTrack"]["required"] == ["type", "event"]
    # The existing API's operations keep their own security.
    keys = schema["paths"]["/api/v1/user/api_keys"]["get"]
    assert keys["security"] == [{"ApiKey": []}, {"cookieAuth": []}]


def _example(schema, path):
    return schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"]


def test_the_documented_examples_are_accepted(schema, send, integration):
    basic = base64.b64encode(f"{send.secret}:".encode()).decode()
    for path in ["/v1/batch", *(f"/v1/{call}" for call in SEGMENT_TYPES)]:
        response = send.post(path, _example(schema, path), HTTP_AUTHORIZATION=f"Basic {basic}")
        assert (response.status_code, response.json()) == (200, {"success": True}), path

    response = send.canvas(_example(schema, "/v1/event"))
    assert response.status_code == 200
    assert response.json() == {"success": True, "event_id": response.json()["event_id"]}

    response = send.prime(_example(schema, "/v1/events"))
    assert (response.status_code, response.json()) == (200, {"updated": 1, "rejected": []})

    path = "/api/v1/workspaces/{workspace_id}/events"
    response = send.flameup(_example(schema, path))
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["event_id"]


def test_the_documented_errors_are_what_the_endpoints_answer(send):
    response = send.segment({"batch": []}, secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"success": False, "error": "Invalid or revoked write key."}
    response = send.segment({"batch": [{}] * (MAX_BATCH + 1)})
    assert response.status_code == 400 and set(response.json()) == {"success", "error"}
    response = send.flameup({"event": "x", "userId": "u"}, workspace="not-a-uuid")
    assert response.status_code == 404 and response.json()["success"] is False


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular", validate=True, fail_on_warn=True, file=str(out), stderr=io.StringIO()
    )
    assert "/v1/batch:" in out.read_text()
