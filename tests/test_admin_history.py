"""The admin's History pages of tags, collections, integrations and users read the same
change rows as the API: who changed what, from what to what."""

import pytest
from django.urls import reverse

from catalog.services.context import ChangeContext
from catalog.services.workspace import user_update, workspace_object_update
from tests.factories import CollectionFactory, IntegrationFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_who_switched_an_integration_to_block_mode(admin_client, admin_user):
    integration = IntegrationFactory(name="Backend", validation_mode="discover")
    ctx = ChangeContext(source="admin", user=admin_user)
    workspace_object_update(ctx=ctx, obj=integration, data={"validation_mode": "block"})
    page = admin_client.get(reverse("admin:catalog_integration_history", args=[integration.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "History: Backend" in text and str(admin_user) in text and "via Admin" in text
    assert "Discover" in text or "discover" in text
    assert "Block" in text or "block" in text


def test_who_made_this_person_an_admin(admin_client, admin_user):
    person = UserFactory(username="dana", role="viewer")
    user_update(
        ctx=ChangeContext(source="api", user=admin_user), user=person, data={"role": "admin"}
    )
    text = admin_client.get(
        reverse("admin:catalog_user_history", args=[person.pk])
    ).content.decode()
    assert str(admin_user) in text and "via REST API" in text and "Role" in text


@pytest.mark.parametrize("factory", [TagFactory, CollectionFactory])
def test_tags_and_collections_have_their_history(admin_client, admin_user, factory):
    obj = factory(description="Old")
    ctx = ChangeContext(source="admin", user=admin_user)
    workspace_object_update(ctx=ctx, obj=obj, data={"description": "New"})
    name = obj._meta.model_name
    text = admin_client.get(
        reverse(f"admin:catalog_{name}_history", args=[obj.pk])
    ).content.decode()
    assert "Old" in text and "New" in text and str(admin_user) in text


def test_the_history_page_costs_the_same_for_3_or_30_changes(
    admin_client, admin_user, django_assert_max_num_queries
):
    tag = TagFactory(description="0")
    ctx = ChangeContext(source="admin", user=admin_user)
    url = reverse("admin:catalog_tag_history", args=[tag.pk])
    for i in range(1, 4):
        workspace_object_update(ctx=ctx, obj=tag, data={"description": str(i)})
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    for i in range(4, 31):
        workspace_object_update(ctx=ctx, obj=tag, data={"description": str(i)})
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)


def test_a_bulk_delete_is_one_change_set_that_one_undo_brings_back(admin_client, admin_user):
    from catalog.models import ChangeSet, Tag
    from catalog.services.revert import change_set_revert

    tags = [TagFactory(title="alpha"), TagFactory(title="beta")]
    response = admin_client.post(
        reverse("admin:catalog_tag_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in tags], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Tag.objects.exists()
    [deleted] = ChangeSet.objects.all()
    assert sorted(c.title for c in deleted.changes.all()) == ["alpha", "beta"]

    change_set_revert(ctx=ChangeContext(source="admin", user=admin_user), change_set=deleted)
    assert sorted(Tag.objects.values_list("title", flat=True)) == ["alpha", "beta"]
