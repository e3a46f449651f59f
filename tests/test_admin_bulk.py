"""Bulk actions on the admin's change lists: PII flags, adding owners and tags, removing tags.

Each goes through the change pipeline: one change set, a history row per changed resource,
emails to the followers.
"""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import (
    ChangeSet,
    Event,
    EventCategory,
    EventProperty,
    ObjectChange,
    Resource,
    UserGroup,
)
from catalog.services.context import ChangeContext
from catalog.services.resources import (
    resources_bulk_add_relations,
    resources_bulk_remove_relations,
)
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FACTORIES = {
    "eventcategory": EventCategoryFactory,
    "event": EventFactory,
    "eventproperty": EventPropertyFactory,
}


def changelist(model_name: str) -> str:
    return reverse(f"admin:catalog_{model_name}_changelist")


def act(client, model_name, action, resources, **data):
    return client.post(
        changelist(model_name),
        {"action": action, "index": 0, "_selected_action": [r.pk for r in resources], **data},
    )


def ids(*objects) -> list[str]:
    return sorted(str(o.pk) for o in objects)


def pairs(*objects) -> list[dict]:
    """Related objects as a history diff names them, in the diff's order (by id)."""
    return [{"id": str(o.pk), "label": str(o)} for o in sorted(objects, key=lambda o: str(o.pk))]


def history(resource) -> list[ObjectChange]:
    return list(ObjectChange.objects.filter(object_id=resource.pk).select_related("change_set"))


def shown(text: str) -> str:
    """A label as the admin shows it: `>` stands for the single right-pointing quotation mark."""
    return text.replace(" > ", " \u203a ")


# --- PII ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", FACTORIES)
def test_mark_as_pii_and_back_on_every_kind(client, editor, model_name):
    resources = [FACTORIES[model_name](pii=False) for _ in range(3)]
    chosen = resources[:2]
    client.force_login(editor)

    response = act(client, model_name, "mark_pii", chosen)

    assert response.status_code == 302
    assert "2 of 2 updated." in client.get(response.url).content.decode()
    flags = Resource.objects.in_bulk([r.pk for r in resources])
    assert [flags[r.pk].pii for r in resources] == [True, True, False]
    for resource in chosen:
        (change,) = history(resource)
        assert (change.action, change.diff) == ("update", {"pii": [False, True]})
        assert (change.change_set.source, change.change_set.actor) == ("admin", editor)
    assert ChangeSet.objects.count() == 1

    act(client, model_name, "mark_not_pii", resources)

    assert not Resource.objects.filter(pii=True).exists()
    assert [c.diff for c in history(chosen[0])] == [{"pii": [True, False]}, {"pii": [False, True]}]
    assert history(resources[2]) == []  # it was not PII: nothing to record


# --- The confirmation page -----------------------------------------------------------------


def test_add_owners_asks_which_on_a_confirmation_page(client, editor):
    web = IntegrationFactory(name="Web app")
    checkout = EventCategoryFactory(title="Checkout", integration=web)
    order = EventFactory(title="Order Completed", parent=checkout)
    revenue = EventPropertyFactory(title="revenue", parent=order)
    currency = EventPropertyFactory(title="currency", parent=order)
    client.force_login(editor)

    response = act(client, "eventproperty", "add_owners", [revenue, currency])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Add owners to 2 event properties" in page
    assert f"<li>{shown('revenue — Web app > Checkout > Order Completed')}</li>" in page
    assert f"<li>{shown('currency — Web app > Checkout > Order Completed')}</li>" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<select name="owners"' in page and "admin-autocomplete" in page
    for pk in [revenue.pk, currency.pk]:
        assert f'<input type="hidden" name="_selected_action" value="{pk}">' in page
    assert '<input type="hidden" name="action" value="add_owners">' in page
    assert 'value="Apply"' in page and ">Cancel</a>" in page
    assert ObjectChange.objects.count() == 0  # nothing changes before "Apply"


def test_apply_without_a_choice_shows_the_page_again_with_an_error(client, editor):
    event = EventFactory()
    client.force_login(editor)

    response = act(client, "event", "add_tags", [event], apply="Apply")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert ObjectChange.objects.count() == 0


def test_the_owners_picker_searches_users(client, editor):
    UserFactory(username="alice", first_name="Alice")
    client.force_login(editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "resource", "field_name": "owners", "term": "ali"},
    )
    assert [row["text"] for row in response.json()["results"]] == ["Alice"]


# --- Adding owners and tags ------------------------------------------------------------------


def test_add_owners_adds_to_each_and_records_one_change_set(client, editor):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Able")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Baker")
    carol = UserFactory(username="carol")
    kept = EventFactory(title="Kept")
    kept.owners.add(carol)
    partly = EventFactory(title="Partly")
    partly.owners.add(alice)
    partly.subscribers.add(alice)
    done = EventFactory(title="Done")
    done.owners.add(alice, bob)
    client.force_login(editor)

    response = act(
        client,
        "event",
        "add_owners",
        [kept, partly, done],
        apply="Apply",
        owners=[alice.pk, bob.pk],
    )

    assert response.status_code == 302
    assert "2 of 3 updated." in client.get(response.url).content.decode()
    assert set(kept.owners.all()) == {alice, bob, carol}
    assert set(partly.owners.all()) == set(done.owners.all()) == {alice, bob}
    # New owners follow, as when owners are set on the form.
    assert set(kept.subscribers.all()) == {alice, bob}
    assert set(partly.subscribers.all()) == {alice, bob}
    assert list(done.subscribers.all()) == []

    (change_set,) = ChangeSet.objects.all()
    assert (change_set.source, change_set.actor) == ("admin", editor)
    changes = {c.title: c for c in change_set.changes.all()}
    assert set(changes) == {"Kept", "Partly"}  # "Done" had both already: nothing recorded
    # New owners follow, which is not an edit: only the owners are in the history.
    assert changes["Kept"].diff == {"owners": [pairs(carol), pairs(alice, bob, carol)]}
    assert changes["Partly"].diff == {"owners": [pairs(alice), pairs(alice, bob)]}
    history_page = client.get(reverse("admin:catalog_event_history", args=[kept.pk]))
    assert "Alice Able" in history_page.content.decode()


@pytest.mark.parametrize("model_name", FACTORIES)
def test_add_and_remove_tags_on_every_kind(client, editor, model_name):
    legacy, checkout = TagFactory(title="legacy"), TagFactory(title="checkout")
    tagged, bare = FACTORIES[model_name](), FACTORIES[model_name]()
    tagged.tags.add(legacy)
    client.force_login(editor)

    act(client, model_name, "add_tags", [tagged, bare], apply="Apply", tags=[checkout.pk])

    assert set(tagged.tags.all()) == {legacy, checkout} and list(bare.tags.all()) == [checkout]
    assert history(tagged)[0].diff == {"tags": [pairs(legacy), pairs(legacy, checkout)]}
    assert history(bare)[0].diff == {"tags": [[], pairs(checkout)]}

    act(client, model_name, "remove_tags", [tagged, bare], apply="Apply", tags=[legacy.pk])

    assert list(tagged.tags.all()) == [checkout] and list(bare.tags.all()) == [checkout]
    assert history(tagged)[0].diff == {"tags": [pairs(legacy, checkout), pairs(checkout)]}
    assert len(history(bare)) == 1  # it had no "legacy": nothing recorded
    assert ChangeSet.objects.count() == 2


def test_select_all_across_pages_carries_over_to_apply(client, editor):
    category = EventCategoryFactory()
    events = [EventFactory(parent=category) for _ in range(3)]
    other = EventFactory()
    tag = TagFactory()
    client.force_login(editor)
    url = changelist("event") + f"?parent__id__exact={category.pk}"
    data = {"action": "add_tags", "index": 0, "select_across": 1, "_selected_action": events[0].pk}

    page = client.post(url, data).content.decode()
    assert "Add tags to 3 events" in page
    assert '<input type="hidden" name="select_across" value="1">' in page
    client.post(url, {**data, "apply": "Apply", "tags": [tag.pk]})

    assert set(Event.objects.filter(tags=tag)) == set(events)
    assert not other.tags.exists()


def test_the_subscribers_of_each_resource_and_its_parents_are_emailed(
    client, editor, django_capture_on_commit_callbacks
):
    dora = UserFactory(username="dora", email="dora@example.com")
    erin = UserFactory(username="erin", email="erin@example.com")
    frank = UserFactory(username="frank", email="frank@example.com")
    order = EventFactory(title="Order Completed")
    order.subscribers.add(dora, editor)
    order.parent.subscribers.add(erin)  # follows the category
    quiet = EventFactory(title="Page Viewed")
    checkout = TagFactory(title="checkout")
    client.force_login(editor)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        act(client, "event", "add_tags", [order, quiet], apply="Apply", tags=[checkout.pk])
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "event", "add_owners", [quiet], apply="Apply", owners=[frank.pk])

    sent = {message.to[0]: message for message in mail.outbox}
    assert sorted(sent) == ["dora@example.com", "erin@example.com", "frank@example.com"]
    # One change set, one email: what they follow first, then the rest of it.
    assert sent["dora@example.com"].subject == (
        '[Event Catalog] Event "Order Completed" and 1 more changed'
    )
    for address in ["dora@example.com", "erin@example.com"]:
        body = sent[address].body
        assert 'Event "Order Completed" was changed' in body and "via Admin" in body
        assert "Tags: added checkout" in body
        assert "Tags: added checkout" in sent[address].body
    # A new owner hears that they own it now; the actor hears nothing of their own change.
    assert "Owners: added frank" in sent["frank@example.com"].body


def test_adding_relations_costs_the_same_for_5_or_20_resources(client, editor):
    tag = TagFactory()
    owners = [UserFactory() for _ in range(2)]

    def run(count, action, **data):
        events = [EventFactory() for _ in range(count)]
        for event in events:
            event.subscribers.add(UserFactory())
        with CaptureQueriesContext(connection) as captured:
            response = act(client, "event", action, events, apply="Apply", **data)
        assert response.status_code == 302
        assert ObjectChange.objects.filter(object_id__in=[e.pk for e in events]).count() == (count)
        return len(captured.captured_queries)

    client.force_login(editor)
    assert run(5, "add_tags", tags=[tag.pk]) == run(20, "add_tags", tags=[tag.pk])
    owners = [owner.pk for owner in owners]
    assert run(5, "add_owners", owners=owners) == run(20, "add_owners", owners=owners)


# --- Who may ------------------------------------------------------------------------------


def test_a_viewer_gets_no_actions_and_can_not_post_one(client, viewer):
    event = EventFactory(pii=False)
    tag = TagFactory()
    client.force_login(viewer)

    page = client.get(changelist("event")).content.decode()
    assert "Mark selected as PII" not in page and "Add owners" not in page
    assert 'name="action"' not in page

    for action, data in [
        ("mark_pii", {}),
        ("add_tags", {"apply": "Apply", "tags": [tag.pk]}),
        ("add_owners", {"apply": "Apply", "owners": [viewer.pk]}),
    ]:
        act(client, "event", action, [event], **data)

    event.refresh_from_db()
    assert not event.pii and not event.tags.exists() and not event.owners.exists()
    assert ObjectChange.objects.count() == 0


def test_the_service_asks_the_policy(viewer):
    event = EventFactory()
    ctx = ChangeContext(source="admin", user=viewer)
    with pytest.raises(PermissionDenied):
        resources_bulk_add_relations(ctx=ctx, resources=[event], field="tags", ids=[TagFactory()])
    with pytest.raises(PermissionDenied):
        resources_bulk_remove_relations(ctx=ctx, resources=[event], field="tags", ids=[])


# --- The service --------------------------------------------------------------------------


def test_the_service_refuses_unknown_fields_and_ids(editor):
    event = EventFactory()
    ctx = ChangeContext(source="admin", user=editor)
    with pytest.raises(ValidationError, match="Not a relation"):
        resources_bulk_add_relations(ctx=ctx, resources=[event], field="title", ids=["x"])
    missing = TagFactory()
    missing_pk = missing.pk
    missing.delete()
    with pytest.raises(ValidationError, match=str(missing_pk)):
        resources_bulk_add_relations(ctx=ctx, resources=[event], field="tags", ids=[missing_pk])
    assert ObjectChange.objects.count() == 0


def test_the_members_of_new_owner_groups_follow(editor):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    group = UserGroup.objects.create(name="Payments")
    group.users.add(alice, bob)
    events = [EventFactory(), EventFactory()]
    ctx = ChangeContext(source="admin", user=editor)

    changed = resources_bulk_add_relations(
        ctx=ctx, resources=events, field="owners_groups", ids=[group.pk]
    )

    assert changed == 2
    for event in events:
        assert list(event.owners_groups.all()) == [group]
        assert set(event.subscribers.all()) == {alice, bob}
        assert set(history(event)[0].diff) == {"owners_groups"}
    assert (
        resources_bulk_add_relations(
            ctx=ctx, resources=events, field="owners_groups", ids=[group.pk]
        )
        == 0
    )


def test_categories_and_properties_keep_their_kind_and_children(editor):
    prop = EventPropertyFactory()
    category = EventCategory.objects.get(pk=prop.parent.parent_id)
    ctx = ChangeContext(source="admin", user=editor)

    resources_bulk_add_relations(
        ctx=ctx, resources=[category, prop], field="tags", ids=[TagFactory()]
    )

    assert EventProperty.objects.filter(pk=prop.pk, parent=prop.parent_id).exists()
    assert Event.objects.filter(parent=category).count() == 1


def test_a_refusal_of_the_service_is_a_message_not_an_error(client, editor, monkeypatch):
    """A tag deleted between the confirmation page and "Apply" is refused by the service."""
    event, tag = EventFactory(), TagFactory(title="checkout")

    def refuse(**kwargs):
        raise ValidationError({"tags": "Unknown tags: 1 of them no longer exists."})

    monkeypatch.setattr("catalog.admin.resources.resources_bulk_add_relations", refuse)
    client.force_login(editor)
    response = act(client, "event", "add_tags", [event], apply="Apply", tags=[tag.pk])
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "no longer exists" in page
    assert not event.tags.exists()
