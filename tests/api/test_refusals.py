"""A service's refusal reaches the client through the API's one exception handler: the
answer is the same whichever view called the service."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import Tag
from catalog.services.errors import InUse
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("refusal", "status", "body"),
    [
        (ValidationError({"title": "Taken."}), 400, {"title": ["Taken."]}),
        (ValidationError("Not now."), 400, {"non_field_errors": ["Not now."]}),
        (PermissionDenied("Admins only."), 403, {"detail": "Admins only."}),
        (PermissionDenied(), 403, {"detail": "You do not have permission to perform this action."}),
        (Tag.DoesNotExist(), 404, {"detail": "Not found."}),
        (InUse("Still used."), 409, {"detail": "Still used."}),
    ],
)
def test_each_refusal_has_its_answer(as_editor, monkeypatch, refusal, status, body):
    def refuse(**kwargs):
        raise refusal

    monkeypatch.setattr("catalog.api.views.workspace_object_update", refuse)
    tag = TagFactory()
    response = as_editor.patch(f"/api/v1/tag/tags/{tag.pk}", {"title": "x"}, format="json")
    assert (response.status_code, response.json()) == (status, body)
