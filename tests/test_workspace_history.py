"""Every write of the workspace is recorded: one change per object, a diff, never a secret."""

import json

import pytest

from catalog.models import (
    ApiKey,
    ChangeSet,
    Collection,
    CustomProperty,
    Integration,
    ObjectChange,
    Tag,
    Team,
    User,
    UserGroup,
)
from catalog.services.context import ChangeContext
from catalog.services.keys import api_key_create, api_key_revoke
from catalog.services.subscriptions import subscriptions_add, subscriptions_remove
from catalog.services.workspace import (
    user_create,
    user_set_password,
    user_update,
    user_update_profile,
    workspace_object_create,
    workspace_object_delete,
    workspace_object_update,
)
from catalog.services.writekeys import write_key_create, write_key_revoke
from tests import factories
from tests.factories import EventFactory, IntegrationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

CASES = [
    (Tag, "tag", {"title": "beta"}, ("color", "#149634", "#000000")),
    (Collection, "collection", {"title": "Funnel"}, ("description", "", "The checkout")),
    (Team, "team", {"name": "Growth"}, ("description", "", "Grows")),
    (UserGroup, "user_group", {"name": "Analysts"}, ("icon", "", "💼")),
    (
        Integration,
        "integration",
        {"name": "Web", "type": "segment"},
        ("validation_mode", "discover", "block"),
    ),
    (
        CustomProperty,
        "custom_property",
        {"name": "Jira", "entity_types": ["event"], "value_type": "text"},
        ("entity_types", ["event"], ["event", "event_property"]),
    ),
]


def acting(user) -> ChangeContext:
    return factories.acting(user, request_id="req-9")


def changes_of(pk) -> list[ObjectChange]:
    return list(ObjectChange.objects.filter(object_id=pk).order_by("id"))


@pytest.mark.parametrize(("model", "kind", "create", "update"), CASES)
def test_create_update_and_delete_are_recorded(admin_user, model, kind, create, update):
    ctx = acting(admin_user)
    obj = workspace_object_create(ctx=ctx, model=model, data=create)
    name, old, new = update
    workspace_object_update(ctx=ctx, obj=obj, data={name: new})
    workspace_object_delete(ctx=ctx, obj=obj)

    created, updated, deleted = changes_of(obj.pk)
    assert [c.object_type for c in (created, updated, deleted)] == [kind] * 3
    assert [c.action for c in (created, updated, deleted)] == ["create", "update", "delete"]
    for field, value in create.items():
        assert created.diff[field] == [None, value]
    assert updated.diff == {name: [old, new]}
    assert deleted.state[name] == new
    for change in (created, updated, deleted):
        assert change.change_set.actor == admin_user
        assert change.change_set.request_id == "req-9"


def test_a_role_change_names_who_made_whom_an_admin(admin_user):
    person = UserFactory(username="dana", role="editor")
    team = TeamFactory(name="Growth")
    user_update(ctx=acting(admin_user), user=person, data={"role": "admin", "teams": [team]})
    [change] = changes_of(person.pk)
    assert change.change_set.actor == admin_user
    assert change.diff == {
        "role": ["editor", "admin"],
        "teams": [[], [{"id": str(team.pk), "label": "Growth"}]],
    }


def test_users_are_recorded_without_their_password(admin_user):
    ctx = acting(admin_user)
    person = user_create(ctx=ctx, username="erin", password="correct horse battery", role="viewer")
    user_update_profile(ctx=ctx, user=person, data={"first_name": "Erin"})
    user_set_password(ctx=ctx, user=person, password="another long secret")
    user_update(ctx=ctx, user=person, data={"is_active": False})
    recorded = json.dumps([c.diff for c in changes_of(person.pk)])
    assert "password" not in recorded and "pbkdf2" not in recorded
    assert [c.action for c in changes_of(person.pk)] == ["create", "update", "update"]
    assert User.objects.get(pk=person.pk).check_password("another long secret")


def test_keys_are_recorded_by_name_and_prefix_never_their_secret(admin_user):
    ctx = acting(admin_user)
    api_key, api_secret = api_key_create(ctx=ctx, user=admin_user, name="CI")
    write_key, write_secret = write_key_create(
        ctx=ctx, integration=IntegrationFactory(), name="Web"
    )
    api_key_revoke(ctx=ctx, key=api_key)
    write_key_revoke(ctx=ctx, key=write_key)
    write_key_revoke(ctx=ctx, key=write_key)  # twice: nothing more recorded

    rows = list(ObjectChange.objects.filter(object_type__in=["api_key", "write_key"]))
    assert sorted((c.object_type, c.action) for c in rows) == [
        ("api_key", "create"),
        ("api_key", "update"),
        ("write_key", "create"),
        ("write_key", "update"),
    ]
    recorded = json.dumps([[c.title, c.diff, c.state] for c in rows])
    for secret, key in ((api_secret, api_key), (write_secret, write_key)):
        assert secret not in recorded and key.key_hash not in recorded
        assert secret.split("_", 2)[2] not in recorded  # the random part (it may hold "_")
    created = next(c for c in rows if c.object_type == "api_key" and c.action == "create")
    assert created.title == f"CI ({api_key.prefix}…)"
    assert created.diff["prefix"] == [None, api_key.prefix]
    revoked = next(c for c in rows if c.object_type == "api_key" and c.action == "update")
    assert list(revoked.diff) == ["revoked_at"] and ApiKey.objects.get().is_revoked


def test_following_is_in_no_history(editor):
    event = EventFactory()
    subscriptions_add(ctx=acting(editor), user=editor, resource_ids=[event.pk])
    subscriptions_remove(ctx=acting(editor), user=editor, resource_ids=[event.pk])
    assert not ChangeSet.objects.exists()


def test_a_collections_followers_are_not_an_edit_but_its_delete_keeps_them(admin_user):
    follower = UserFactory()
    ctx = acting(admin_user)
    collection = workspace_object_create(ctx=ctx, model=Collection, data={"title": "Funnel"})
    workspace_object_update(ctx=ctx, obj=collection, data={"subscribers": [follower]})
    assert [c.action for c in changes_of(collection.pk)] == ["create"]
    workspace_object_delete(ctx=ctx, obj=collection)
    deleted = changes_of(collection.pk)[-1]
    assert "subscribers" not in deleted.diff
    assert deleted.state["subscribers"] == [str(follower.pk)]
