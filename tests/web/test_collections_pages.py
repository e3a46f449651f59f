"""The collections pages: the list, a page per collection with its definition and the
resources the reader may see, and following a collection."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from catalog.models import Collection, ObjectChange
from catalog.services.context import ChangeContext
from catalog.services.subscriptions import collection_subscriptions_add, subscriptions_remove
from tests.factories import (
    SYSTEM,
    CollectionFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)
from tests.web.test_pages import text_of

LIST = "/collections/"


def page_of(collection) -> str:
    return reverse("web:collection", args=[collection.pk])


def follow_url(collection) -> str:
    return reverse("web:collection_follow", args=[collection.pk])


@pytest.fixture
def funnel(order_completed, editor):
    """ "Checkout funnel": Order Completed and its revenue property (published), a draft
    event, two followers, an owner, a tag and a team."""
    collection = CollectionFactory(
        title="Checkout funnel",
        icon="🛒",
        description="From the cart to the payment.",
        definition="## Steps\n\n1. Cart\n2. **Payment**",
    )
    draft = EventFactory(title="Refund Issued", parent=order_completed.parent, published=False)
    revenue = order_completed.children.get(title="revenue")
    for resource in (order_completed, revenue, draft):
        resource.collections.add(collection)
    collection.subscribers.add(UserFactory(), UserFactory())
    collection.owners.add(editor)
    collection.tags.add(TagFactory(title="funnel", color="#b42318"))
    collection.teams.add(TeamFactory(name="Payments"))
    return collection


@pytest.fixture
def hidden(db):
    return CollectionFactory(title="Secret project", published=False)


# The list


def test_the_list_shows_icon_description_size_and_followers(viewer_web, funnel, hidden):
    response = viewer_web.get(LIST)
    assert response.status_code == 200
    text = text_of(response)
    assert "🛒 Checkout funnel" in text
    assert "From the cart to the payment." in text
    # The viewer sees the two published resources, not the draft.
    assert "2 resources · 2 followers" in text
    assert "Secret project" not in text
    assert f'href="{page_of(funnel)}"' in response.content.decode()


def test_editors_see_unpublished_collections_and_drafts(editor_web, funnel, hidden):
    text = text_of(editor_web.get(LIST))
    assert "3 resources · 2 followers" in text
    assert "Secret project Unpublished" in text


def test_an_empty_list_says_so(viewer_web, editor_web, db):
    assert "No collections yet." in text_of(viewer_web.get(LIST))
    assert "Create one in the admin" in text_of(editor_web.get(LIST))
    assert "Create one in the admin" not in text_of(viewer_web.get(LIST))


def test_the_list_costs_the_same_queries_for_2_or_20_collections(
    viewer_web, order_completed, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            collection = CollectionFactory()
            order_completed.collections.add(collection)
            collection.subscribers.add(UserFactory())

    add(2)
    # Session and user, the count and the page of collections (with their figures).
    with django_assert_max_num_queries(4) as few:
        assert viewer_web.get(LIST).status_code == 200
    add(18)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = viewer_web.get(LIST)
    assert text_of(response).count("1 resource · 1 follower") == 20


def test_bad_page_numbers_give_a_page(viewer_web, funnel):
    for page in ("0", "-3", "999999999999999999999", "x\x00", "2"):
        response = viewer_web.get(LIST, {"page": page})
        assert response.status_code == 200
        assert "Checkout funnel" in text_of(response)


# A collection's page


def test_the_page_shows_definition_resources_and_details(viewer_web, funnel, order_completed):
    response = viewer_web.get(page_of(funnel))
    assert response.status_code == 200
    text = text_of(response)
    html = response.content.decode()
    assert "🛒 Checkout funnel" in text
    assert "From the cart to the payment." in text
    assert "<h2>Steps</h2>" in html and "<strong>Payment</strong>" in html
    assert "2 resources" in text
    assert "Order Completed in Checkout Event Web app The order was placed and paid." in text
    assert "revenue in Order Completed Event property Web app" in text
    assert "Refund Issued" not in text  # a draft: not for viewers
    assert f'href="{reverse("web:resource", args=[order_completed.pk])}"' in html
    assert "Owners editor" in text and "Teams Payments" in text and "Tags funnel" in text
    assert "2 followers" in text
    assert "Edit this collection in the admin" not in text


def test_editors_see_drafts_and_an_edit_link(editor_web, funnel):
    response = editor_web.get(page_of(funnel))
    text = text_of(response)
    assert "3 resources" in text
    assert "Refund Issued in Checkout Unpublished Event Web app" in text
    assert "Edit this collection in the admin" in text


def test_a_hidden_or_unknown_collection_is_a_404(viewer_web, editor_web, hidden):
    assert viewer_web.get(page_of(hidden)).status_code == 404
    assert editor_web.get(page_of(hidden)).status_code == 200
    missing = "/collections/00000000-0000-4000-8000-000000000000/"
    assert viewer_web.get(missing).status_code == 404
    assert viewer_web.get("/collections/nope/").status_code == 404
    assert viewer_web.post(follow_url(hidden)).status_code == 404
    assert not hidden.subscribers.exists()


def test_a_collection_with_nothing_in_it(viewer_web, db):
    empty = CollectionFactory(title="Empty")
    text = text_of(viewer_web.get(page_of(empty)))
    assert "No definition yet." in text
    assert "No resources you can see in this collection yet." in text


def test_sub_collections_and_the_parent_are_linked(viewer_web, funnel, hidden):
    child = CollectionFactory(title="Payment step", parent=funnel)
    CollectionFactory(title="Hidden step", parent=funnel, published=False)
    text = text_of(viewer_web.get(page_of(funnel)))
    assert "Collections inside it Payment step" in text
    assert "Hidden step" not in text
    assert "Collection in Checkout funnel" in text_of(viewer_web.get(page_of(child)))
    hidden_child = CollectionFactory(title="Under a secret", parent=hidden)
    assert "Secret project" not in text_of(viewer_web.get(page_of(hidden_child)))


def test_the_resources_are_paginated(viewer_web, funnel, order_completed):
    for n in range(55):
        EventPropertyFactory(title=f"prop_{n:02}", parent=order_completed).collections.add(funnel)
    text = text_of(viewer_web.get(page_of(funnel)))
    assert "57 resources, 1 to 50 shown" in text and "Page 1 of 2" in text
    text = text_of(viewer_web.get(page_of(funnel), {"page": "2"}))
    assert "51 to 57 shown" in text and "revenue" in text


def test_the_page_costs_the_same_queries_for_2_or_20_resources(
    viewer_web, funnel, order_completed, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            prop = EventPropertyFactory(parent=order_completed)
            prop.collections.add(funnel)
            funnel.owners.add(UserFactory())
            funnel.tags.add(TagFactory())
            CollectionFactory(parent=funnel)

    # Session and user, the collection (with its figures), the resources (count and page),
    # owners, teams, tags, and the collections inside it.
    with django_assert_max_num_queries(9) as few:
        assert viewer_web.get(page_of(funnel)).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = viewer_web.get(page_of(funnel))
    assert "22 resources" in text_of(response)


# Following


def test_following_and_unfollowing_updates_the_button_and_the_count(viewer_web, viewer, funnel):
    text = text_of(viewer_web.get(page_of(funnel)))
    assert "Follow Get an email when it changes. 2 followers" in text

    response = viewer_web.post(follow_url(funnel), {"action": "follow"}, follow=True)
    text = text_of(response)
    assert "You follow “Checkout funnel”." in text
    assert "Unfollow You follow this collection" in text and "3 followers" in text
    assert funnel.subscribers.filter(pk=viewer.pk).exists()
    assert "Following" in text_of(viewer_web.get(LIST))

    response = viewer_web.post(follow_url(funnel), {"action": "unfollow"}, follow=True)
    assert "You no longer follow “Checkout funnel”." in text_of(response)
    assert not funnel.subscribers.filter(pk=viewer.pk).exists()
    # Following is each person's own business: no history.
    assert not ObjectChange.objects.exists()


def test_htmx_swaps_the_button_with_the_new_count(viewer_web, viewer, funnel):
    response = viewer_web.post(follow_url(funnel), {"action": "follow"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<form")
    assert "Unfollow" in html and "3 followers" in html
    # Following twice changes nothing.
    response = viewer_web.post(follow_url(funnel), {"action": "follow"}, HTTP_HX_REQUEST="true")
    assert "3 followers" in response.content.decode()
    assert funnel.subscribers.count() == 3


def test_following_only_by_post(viewer_web, funnel):
    assert viewer_web.get(follow_url(funnel)).status_code == 405


# The service


def test_the_service_follows_visible_collections_once(viewer, funnel, hidden):
    ctx = ChangeContext(source="web", user=viewer)
    assert collection_subscriptions_add(ctx=ctx, user=viewer, collection_ids=[funnel.pk]) == 1
    assert collection_subscriptions_add(ctx=ctx, user=viewer, collection_ids=[funnel.pk]) == 0
    with pytest.raises(Collection.DoesNotExist):
        collection_subscriptions_add(ctx=ctx, user=viewer, collection_ids=[hidden.pk])
    with pytest.raises(Collection.DoesNotExist):
        collection_subscriptions_add(ctx=ctx, user=viewer, collection_ids=["not-an-id"])
    assert subscriptions_remove(ctx=ctx, user=viewer, resource_ids=[funnel.pk]) == 1
    assert not funnel.subscribers.filter(pk=viewer.pk).exists()


def test_only_admins_make_others_follow(viewer, editor, admin_user, funnel):
    for actor in (viewer, editor):
        with pytest.raises(PermissionDenied):
            collection_subscriptions_add(
                ctx=ChangeContext(source="web", user=actor),
                user=admin_user,
                collection_ids=[funnel.pk],
            )
    admin_ctx = ChangeContext(source="web", user=admin_user)
    assert collection_subscriptions_add(ctx=admin_ctx, user=viewer, collection_ids=[funnel.pk])
    assert collection_subscriptions_add(ctx=SYSTEM, user=editor, collection_ids=[funnel.pk])
    assert funnel.subscribers.filter(pk__in=[viewer.pk, editor.pk]).count() == 2
