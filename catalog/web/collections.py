"""The collections pages: curated groups of resources, such as "Checkout funnel".

Everyone reads the collections they may see (`collections_visible_to`: viewers the published
ones) and, in each, the resources they may see; everyone may follow a collection they see, to
be emailed when it changes (`collection_subscriptions_add`, `subscriptions_remove`). Each page
costs a constant number of queries whatever the number of collections and resources.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.markdown import render_markdown
from catalog.models import ChangeSource, Collection, Resource
from catalog.policy import Action, collections_visible_to, may, resources_visible_to
from catalog.services.context import ChangeContext
from catalog.services.subscriptions import collection_subscriptions_add, subscriptions_remove

PAGE_SIZE = 50
RESOURCES_PAGE_SIZE = 50


def _through_count(model, column: str):
    """A correlated count of `model` (an M2M through table) rows of the outer collection."""
    counted = (
        model.objects.filter(**{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_figures(collections, user):
    """`collections` with how many resources `user` sees in each, how many people follow
    each, and whether `user` does: subqueries, so the whole list is one query."""
    members = Resource.collections.through
    visible = resources_visible_to(user)
    resource_count = (
        members.objects.filter(collection_id=OuterRef("pk"), resource__in=visible)
        .order_by()
        .values("collection_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    followers = Collection.subscribers.through
    return collections.annotate(
        resource_count=Coalesce(Subquery(resource_count, output_field=IntegerField()), Value(0)),
        follower_count=_through_count(followers, "collection_id"),
        followed=Exists(followers.objects.filter(collection_id=OuterRef("pk"), user=user)),
    )


@require_GET
@login_required
def collections(request):
    """The collections the user may see, with their icon, description and size."""
    listed = _with_figures(collections_visible_to(request.user), request.user).order_by(
        "title", "id"
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/collections.html",
        {"page": page, "can_edit": may(request.user, Action.CHANGE, Collection)},
    )


def _get_collection(request, pk) -> Collection:
    collection = (
        _with_figures(collections_visible_to(request.user), request.user)
        .select_related("parent", "integration")
        .filter(pk=pk)
        .first()
    )
    if collection is None:
        raise Http404("No such collection.")
    return collection


def _admin_url(collection: Collection, user) -> str | None:
    """Where editors change the collection (the admin, until the pages edit collections)."""
    if not (user.is_staff and may(user, Action.CHANGE, collection)):
        return None
    try:
        return reverse("admin:catalog_collection_change", args=[collection.pk])
    except NoReverseMatch:
        return None


@require_GET
@login_required
def collection_detail(request, pk):
    """A collection: its definition, its resources (those the user may see), who owns it, and
    a button to follow it."""
    collection = _get_collection(request, pk)
    visible_collections = collections_visible_to(request.user)
    resources = (
        resources_visible_to(request.user)
        .filter(collections=collection)
        .select_related("integration", "parent")
        .order_by("title", "id")
    )
    page = Paginator(resources, RESOURCES_PAGE_SIZE).get_page(request.GET.get("page"))
    owners = list(collection.owners.only("id", "username", "first_name", "last_name"))
    parent = collection.parent
    if parent is not None and not visible_collections.filter(pk=parent.pk).exists():
        parent = None
    context = {
        "collection": collection,
        "definition": render_markdown(collection.definition),
        "page": page,
        "owners": sorted(owners, key=lambda user: str(user).casefold()),
        "teams": list(collection.teams.order_by("name")),
        "tags": list(collection.tags.order_by("title")),
        "parent": parent,
        "children": list(visible_collections.filter(parent=collection).order_by("title")),
        "admin_url": _admin_url(collection, request.user),
    }
    return render(request, "catalog/collection_detail.html", context)


@require_POST
@login_required
def collection_follow(request, pk):
    """Follow or stop following (the form's `action`); htmx swaps the button and the follower
    count in place."""
    collection = _get_collection(request, pk)
    follow = request.POST.get("action") != "unfollow"
    ctx = ChangeContext.for_request(request, ChangeSource.WEB)
    if follow:
        collection_subscriptions_add(ctx=ctx, user=request.user, collection_ids=[collection.pk])
    else:
        subscriptions_remove(ctx=ctx, user=request.user, resource_ids=[collection.pk])
    if request.htmx:
        collection = _get_collection(request, pk)
        return render(request, "catalog/_collection_follow.html", {"collection": collection})
    messages.success(
        request,
        f"You follow “{collection.title}”."
        if follow
        else f"You no longer follow “{collection.title}”.",
    )
    return redirect("web:collection", pk=collection.pk)
