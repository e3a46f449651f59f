"""The catalog pages. Reads ask the policy what the user may see; writes go through the
services with a `web` change context, exactly like the API and the admin.

Each view costs a constant number of queries whatever the catalog's size (tests assert it):
lists fetch a page plus its related names in one query per relation.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.filtersets import EVENT_SORTS, EventFilterSet, sort_events
from catalog.markdown import render_markdown
from catalog.models import (
    ApiKey,
    ChangeSource,
    EntityType,
    Integration,
    LoggedEvent,
    Resource,
    Tag,
    User,
    Violation,
)
from catalog.models.titles import normalize_title
from catalog.notifications.linediff import shared_budget
from catalog.policy import (
    Action,
    collections_visible_to,
    may,
    resource_visibility,
    resources_visible_to,
)
from catalog.refusals import refusals_on
from catalog.search import MAX_RESULTS, count_is_capped, search_resources
from catalog.selectors import (
    TRACKED_TYPES,
    attach_relation_ids,
    attach_tracking,
    custom_values_of,
    daily_volumes_of,
    hide_unseen_labels,
    history_of,
    mask_pii,
    tracking_from,
    utc_today,
    violations_of,
    with_tracking,
)
from catalog.services.context import ChangeContext
from catalog.services.errors import Conflict
from catalog.services.keys import api_key_create, api_key_revoke
from catalog.services.resources import resource_update
from catalog.services.revert import change_set_revert
from catalog.services.subscriptions import subscriptions_add, subscriptions_remove
from catalog.services.workspace import user_update_profile
from catalog.tracking_plan.formats import ONE_INTEGRATION

from .bulk import BULK_MAX, bulk_form, may_bulk_edit
from .forms import (
    NOT_FOUND,
    ApiKeyForm,
    EmailPreferenceForm,
    EventFilterForm,
    ResourceEditForm,
    definition_text,
)
from .snippets import Snippet, SnippetProperty, snippets_for

PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20
SUGGESTIONS = 8
HISTORY_PAGE_SIZE = 25
CHILDREN_SHOWN = 100
#: The violations an event's page lists; the API has them all.
VIOLATIONS_SHOWN = 20
#: From this row on, the events list fetches a page by its ids (see `_IdsFirstPaginator`).
DEEP_OFFSET = 500

_PARENTS = ("parent", "parent__parent", "integration")
_USER_NAMES = Prefetch("owners", queryset=User.objects.only("id", "username"))
_TAG_NAMES = Prefetch("tags", queryset=Tag.objects.only("id", "title", "color"))
#: Owners as the events list names them: by their full name (User.__str__).
_OWNER_NAMES = Prefetch(
    "owners",
    queryset=User.objects.only("id", "username", "first_name", "last_name").order_by(
        "first_name", "last_name", "username"
    ),
)


def _context(request, source: str = ChangeSource.WEB) -> ChangeContext:
    return ChangeContext.for_request(request, source)


def _visible(request, entity_type: str | None = None):
    return resources_visible_to(request.user, entity_type)


def _get_resource(request, pk, *, tracking: bool = False):
    """The resource, if the user may see it; a 404 otherwise (hidden or missing alike).

    With `tracking`, its first/last seen and volumes come in the same query."""
    resources = _visible(request).select_related(*_PARENTS)
    if tracking:
        resources = with_tracking(resources)
    resource = resources.filter(pk=pk).first()
    if resource is None:
        raise Http404("No such resource.")
    return resource


def _page(request, queryset, size: int, paginator: type[Paginator] = Paginator):
    """A page of `queryset`; a page number that isn't one gives the first or last page."""
    return paginator(queryset, size).get_page(request.GET.get("page"))


class _IdsFirstPaginator(Paginator):
    """Deep pages choose their rows' ids first, then join only those rows.

    `LIMIT 50 OFFSET n` joins the parent and integration of all n skipped rows, in the list's
    order; choosing the ids in a subquery walks the list's index alone, then joins 50 rows.
    Page 1,000 of 100,000 events: 280 ms of SQL before, 5 ms after (bench/pages.py). Still one
    statement, in the same order.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < DEEP_OFFSET:
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list.filter(pk__in=self.object_list.values("pk")[bottom:top])
        return self._get_page(rows, number, self)


def _breadcrumbs(resource: Resource) -> list[tuple[str, str]]:
    """(label, url) from the catalog home down to the resource's parent."""
    crumbs = [("Catalog", reverse("web:home"))]
    integration = resource.integration
    crumbs.append((integration.name, f"{reverse('web:events')}?integration={integration.pk}"))
    ancestors = reversed(resource.ancestors())
    crumbs.extend((a.title, reverse("web:resource", args=[a.pk])) for a in ancestors)
    return crumbs


@require_GET
@login_required
def home(request):
    """Integrations, their categories and how many events and properties each holds."""
    visible = _visible(request)
    counts: dict = {}
    for integration_id, entity_type, total in (
        visible.order_by().values_list("integration_id", "entity_type").annotate(total=Count("id"))
    ):
        counts.setdefault(integration_id, {})[entity_type] = total
    events = Q(children__in=_visible(request, EntityType.EVENT))
    categories = (
        _visible(request, EntityType.EVENT_CATEGORY)
        .annotate(events=Count("children", filter=events))
        .order_by("integration__name", "title")
        .values("id", "title", "description", "integration_id", "events")
    )
    by_integration: dict = {}
    for category in categories:
        by_integration.setdefault(category["integration_id"], []).append(category)
    integrations = [
        {
            "integration": integration,
            "categories": by_integration.get(integration.pk, []),
            "counts": {
                "categories": counts.get(integration.pk, {}).get(EntityType.EVENT_CATEGORY, 0),
                "events": counts.get(integration.pk, {}).get(EntityType.EVENT, 0),
                "properties": counts.get(integration.pk, {}).get(EntityType.EVENT_PROPERTY, 0),
            },
        }
        for integration in Integration.objects.order_by("name")
        if integration.pk in counts
    ]
    return render(request, "catalog/home.html", {"integrations": integrations})


#: What the events page says when the query string holds filters it can't use.
FILTERS_LEFT_OUT = "Some filters were not understood and were left out"


@require_GET
@login_required
def events(request):
    """Every event the user may see, filtered (by the API's `EventFilterSet`: a parameter
    means the same on both), sorted and paginated, with when each was last seen and its
    last 30 days. A filter it can't read is left out, and the page says which and why (the
    API answers 400 with the same words). Editors and admins get the bulk edit's controls.

    Queries: the page, its count, owners, tags, the page's daily volumes, and the filter
    form's menus (plus the bulk form's for editors), whatever the number of events."""
    filters = EventFilterSet(
        request.GET,
        queryset=sort_events(_visible(request, EntityType.EVENT)),
        request=request,
    )
    if not filters.is_valid():
        reasons = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in filters.errors.items()
        )
        messages.warning(request, f"{FILTERS_LEFT_OUT}: {reasons}")
    queryset = filters.qs.select_related(*_PARENTS, "seen").prefetch_related(
        _OWNER_NAMES, _TAG_NAMES
    )
    page = _page(request, queryset, PAGE_SIZE, _IdsFirstPaginator)
    page.object_list = list(page.object_list)
    today = utc_today()
    volumes = daily_volumes_of((r.pk for r in page.object_list), today=today)
    for row in page.object_list:
        row.daily = volumes[row.pk]
        row.volume_30d = sum(row.daily)
        row.volume_30d_text = f"{row.volume_30d:,}"
        seen = getattr(row, "seen", None)  # None when never seen
        row.last_seen_at = seen.last_seen_at if seen else None
    form = EventFilterForm(applied=filters.form.cleaned_data, user=request.user)
    category_id = form.initial["category"]
    category = (
        _visible(request, EntityType.EVENT_CATEGORY).filter(pk=category_id).first()
        if category_id
        else None
    )
    query = request.GET.copy()
    query.pop("page", None)
    sort = form.initial.get("sort") or "title"
    can_bulk = may_bulk_edit(request.user)
    return render(
        request,
        "catalog/events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "category": category,
            "exports": _plan_exports(form.initial.get("integration")),
            "columns": _sortable_columns(sort),
            "bulk": _bulk_form(form, query) if can_bulk else None,
            "bulk_max": BULK_MAX,
            "bulk_max_text": f"{BULK_MAX:,}",
            "today": today,
        },
    )


def _bulk_form(filters: EventFilterForm, query):
    """The bulk edit's form, offering the people and tags the filter form already fetched."""
    offered = {
        name: [(pk, label) for pk, label in filters.fields[name].choices if pk and pk != "me"]
        for name in ("owner", "tag")
    }
    # Not a stale filter's id, which the filter form shows as "(not found)".
    people, tags = (
        [choice for choice in offered[name] if choice[1] != NOT_FOUND] for name in offered
    )
    return bulk_form(initial={"query": query.urlencode()}, people=people, tags=tags)


#: The events list's sortable columns: {name: (the sort a click asks first, the other one)}.
_SORTABLE = {
    "event": ("title", "-title"),
    "last_seen": ("-last_seen", "last_seen"),
    "volume": ("-volume_30d", "volume_30d"),
    "updated": ("-updated", None),
}


def _sortable_columns(sort: str) -> dict:
    """Column -> {value, aria_sort, next}: a header's button sorts by its column (the
    other way round when it already does), and says how the list is sorted now. The button
    sends the filter form (what it shows is what is applied), so it works without script."""
    columns = {}
    for name, (first, other) in _SORTABLE.items():
        current = sort in (first, other)
        wanted = other if current and sort == first and other else first
        columns[name] = {
            "value": wanted,
            "aria_sort": (
                ("descending" if sort.startswith("-") else "ascending") if current else ""
            ),
            "next": EVENT_SORTS[wanted][0],
        }
    return columns


#: The plan's files and code, as the events page's "Export" menu offers them.
_PLAN_FILES = (
    ("CSV (a row per property)", "format", "csv"),
    ("JSON Schema (a schema per event)", "format", "json-schema"),
    ("Segment Protocols tracking plan", "format", "segment"),
    ("RudderStack YAML (rudder-cli)", "format", "rudderstack"),
    ("TypeScript: a typed function per event", "language", "typescript"),
    ("Python: a typed function per event", "language", "python"),
)


def _plan_exports(integration_id) -> list[tuple[str, str | None]]:
    """(label, URL) of each export of the plan, of the integration the list is filtered by;
    no URL for a vendor's format until one integration is chosen (its file holds one)."""
    exports = []
    for label, parameter, value in _PLAN_FILES:
        if value in ONE_INTEGRATION and not integration_id:
            exports.append((label, None))
            continue
        route = "plan-export" if parameter == "format" else "plan-codegen"
        query = {parameter: value}
        if integration_id:
            query["integration"] = integration_id
        exports.append((label, f"{reverse(route)}?{urlencode(query)}"))
    return exports


def _search_text(request) -> str:
    return request.GET.get("q", "").replace("\x00", "")[:200]


@require_GET
@login_required
def search(request):
    """Search results: a page of its own, or (htmx, as you type) the suggestions list."""
    text = _search_text(request).strip()
    results = search_resources(request.user, text).select_related(*_PARENTS)
    if request.htmx and request.GET.get("suggest"):
        return render(
            request,
            "catalog/_suggestions.html",
            {"q": text, "results": list(results[: SUGGESTIONS + 1]), "limit": SUGGESTIONS},
        )
    page = _page(request, results, SEARCH_PAGE_SIZE) if text else None
    context = {
        "q": text,
        "page": page,
        "query": urlencode({"q": text}),
        "capped": page is not None and count_is_capped(page.paginator.count),
        "max_results": MAX_RESULTS,
    }
    return render(request, "catalog/search.html", context)


#: The received payloads an event's page shows (editors and admins); the event log has more.
RECENT_EVENTS_SHOWN = 10
#: The followers an event's page names (editors and admins); the others see how many.
FOLLOWERS_SHOWN = 100
#: The allowed values a row of the property schema shows; the property's page has them all.
VALUES_SHOWN = 8
#: People as the pages name them (`User.__str__`: the full name, else the username).
_PERSON_FIELDS = ("id", "username", "first_name", "last_name")
_OWNERS = Prefetch("owners", queryset=User.objects.only(*_PERSON_FIELDS))


@dataclass
class Followers:
    """Who follows a resource, as its page shows it: how many, whether the reader does, and
    (for those who may see them: `people` is None otherwise) the first `FOLLOWERS_SHOWN` by
    name."""

    count: int
    subscribed: bool
    people: list | None


def _followers_of(request, resource: Resource) -> Followers:
    """One query, whatever the number of followers."""
    users = User.objects.filter(subscriptions=resource).only(*_PERSON_FIELDS)
    people = sorted(users, key=lambda user: (str(user).casefold(), user.username))
    named = may(request.user, Action.CHANGE, resource)
    return Followers(
        count=len(people),
        subscribed=any(user.pk == request.user.pk for user in people),
        people=people[:FOLLOWERS_SHOWN] if named else None,
    )


def _children_of(request, resource: Resource) -> list[Resource]:
    """A category's events or an event's properties the reader may see, by title as a person
    reads it (case-insensitive), one more than shown; each event and property with its
    `tracking` (one query for all)."""
    grandchildren = _visible(request).filter(parent__parent=resource.pk)
    children = list(
        _visible(request)
        .filter(parent=resource)
        .order_by(Lower("title"), "title", "id")
        .annotate(child_count=Count("children", filter=Q(children__in=grandchildren)))[
            : CHILDREN_SHOWN + 1
        ]
    )
    attach_tracking(children)
    return children


def _presence(child: Resource, event_volume: int) -> tuple[int, str] | None:
    """How often a property came with its event in the last 30 days: (count, percent as
    shown: "<1" for a few among many), or None when the event wasn't received."""
    if not event_volume:
        return None
    count = child.tracking.volume_30d
    percent = min(100, round(count * 100 / event_volume))
    return count, "<1" if count and not percent else str(percent)


def _recent_events(request, event: Resource) -> list[LoggedEvent] | None:
    """`event`'s newest received calls, PII-flagged values masked, each with its `payload`
    as indented JSON; None for those who may not read the event log (the API's question).
    Three queries at most (the rows, `mask_pii`)."""
    if not may(request.user, Action.VIEW, LoggedEvent):
        return None
    rows = list(
        LoggedEvent.objects.filter(
            integration_id=event.integration_id, name=event.title, type="track"
        ).order_by("-received_at", "-id")[:RECENT_EVENTS_SHOWN]
    )
    mask_pii(rows)
    for row in rows:
        row.payload = json.dumps(row.shown_properties, indent=2, ensure_ascii=False)
    return rows


def _recent_values(request, prop: Resource) -> list[dict] | None:
    """What a property held in its event's newest received calls (masked if PII): each
    `{received_at, sent, value}` (`value` as JSON); None as for `_recent_events`."""
    rows = _recent_events(request, prop.parent)
    if rows is None:
        return None
    values = []
    for row in rows:
        found = [
            value
            for key, value in row.shown_properties.items()
            if normalize_title(str(key)) == prop.title
        ]
        values.append(
            {
                "received_at": row.received_at,
                "sent": bool(found),
                "value": json.dumps(found[0], ensure_ascii=False) if found else "",
            }
        )
    return values


def _snippets(request, resource: Resource, properties: list[Resource]) -> list[Snippet]:
    """ "How to send it" for an event, to this catalog at the address the reader uses."""
    base_url = request.build_absolute_uri("/").rstrip("/")
    track_url = request.build_absolute_uri(reverse("ingest:segment-track"))
    return snippets_for(
        resource.title,
        [SnippetProperty.of(prop) for prop in properties],
        base_url=base_url,
        track_url=track_url,
    )


@require_GET
@login_required
def resource_detail(request, pk):
    """A category, event or property as a steward runs it: activity first (last seen,
    volumes, a daily chart), then the schema or the events, the definition, received
    payloads, violations and how to send it; owners, tags and followers beside.

    A constant number of queries whatever the number of properties, events, followers or
    received events (tests assert it)."""
    resource = _get_resource(request, pk, tracking=True)
    # On the resource itself: a query of its own would only fetch the same row again.
    collections = Prefetch(
        "collections",
        queryset=collections_visible_to(request.user).order_by(Lower("title"), "id"),
        to_attr="visible_collections",
    )
    prefetch_related_objects([resource], _OWNERS, _TAG_NAMES, "teams", collections, "owners_groups")
    tracked = resource.entity_type in TRACKED_TYPES
    tracking = tracking_from(resource)
    children = (
        _children_of(request, resource) if resource.entity_type != EntityType.EVENT_PROPERTY else []
    )
    shown = children[:CHILDREN_SHOWN]
    if resource.entity_type == EntityType.EVENT:
        for child in shown:
            child.presence = _presence(child, tracking.volume_30d)
    violations = _violations_of(request, resource)
    context = {
        "resource": resource,
        "related": resource,
        "owners": sorted(resource.owners.all(), key=lambda user: str(user).casefold()),
        "collections": resource.visible_collections,
        "definition": render_markdown(resource.definition),
        "breadcrumbs": _breadcrumbs(resource),
        "children": shown,
        "more_children": len(children) > CHILDREN_SHOWN,
        "values_shown": VALUES_SHOWN,
        "custom_values": custom_values_of(resource.pk),
        "followers": _followers_of(request, resource),
        "can_edit": may(request.user, Action.CHANGE, Resource),
        "tracked": tracked,
        "tracking": tracking,
        "daily": daily_volumes_of([resource.pk])[resource.pk] if tracked else None,
        "recent_events": (
            _recent_events(request, resource) if resource.entity_type == EntityType.EVENT else None
        ),
        "recent_values": (
            _recent_values(request, resource)
            if resource.entity_type == EntityType.EVENT_PROPERTY
            else None
        ),
        "snippets": (
            _snippets(request, resource, shown)
            if resource.entity_type == EntityType.EVENT
            else None
        ),
        "violations": violations[:VIOLATIONS_SHOWN] if violations is not None else None,
        "more_violations": violations is not None and len(violations) > VIOLATIONS_SHOWN,
    }
    context["subscribed"] = context["followers"].subscribed
    return render(request, "catalog/resource_detail.html", context)


def _violations_of(request, resource: Resource) -> list[Violation] | None:
    """An event's latest open violations, or a property's (of its event, by its name), one
    more than shown; None for those who may not read them, and for categories. Resolved
    ones are on the violations page (one that happens again reopens, and shows here)."""
    if resource.entity_type not in TRACKED_TYPES or not may(request.user, Action.VIEW, Violation):
        return None
    if resource.entity_type == EntityType.EVENT:
        violations = violations_of(event=resource)
    else:
        violations = violations_of(event=resource.parent_id).filter(property_name=resource.title)
    return list(violations.filter(resolved_at__isnull=True)[: VIOLATIONS_SHOWN + 1])


@require_GET
@login_required
def resource_history_view(request, pk):
    """Who changed what and when, newest first."""
    resource = _get_resource(request, pk)
    page = _page(request, history_of(resource.pk), HISTORY_PAGE_SIZE)
    page.object_list = list(page.object_list)
    hide_unseen_labels(resource_visibility(request.user), page.object_list)
    context = {
        "resource": resource,
        "page": page,
        "breadcrumbs": _breadcrumbs(resource),
        # Undoing is changing: the button is for those who may change the catalog.
        "may_revert": may(request.user, Action.CHANGE, resource),
    }
    with shared_budget():  # for the line diffs of the whole page
        return render(request, "catalog/resource_history.html", context)


@require_POST
@login_required
def change_set_revert_view(request, pk, change_set):
    """Undo one entry of a resource's history (the whole change set it belongs to). Later
    changes to the same fields are shown first, with a button to undo anyway."""
    resource = _get_resource(request, pk)
    found = history_of(resource.pk).filter(change_set_id=change_set).first()
    if found is None:
        raise Http404("No such change in this resource's history.")
    history = reverse("web:resource_history", args=[resource.pk])
    try:
        undo = change_set_revert(
            ctx=_context(request), change_set=found.change_set, force="force" in request.POST
        )
    except Conflict as conflict:
        later = [
            {**item, "at": datetime.fromisoformat(item["created_at"])}
            for item in conflict.conflicts
        ]
        context = {
            "resource": resource,
            "change": found,
            "conflict": conflict,
            "later": later,
            "breadcrumbs": _breadcrumbs(resource),
        }
        return render(request, "catalog/revert_conflict.html", context, status=409)
    except ValidationError as error:
        messages.error(request, f"Nothing was undone: {' '.join(error.messages)}")
        return redirect(history)
    count = undo.changes.count()
    what = "1 change" if count == 1 else f"{count:,} changes"
    messages.success(request, f"Undone: {what}, recorded in the history.")
    return redirect(history)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def resource_edit(request, pk):
    """The steward's form; a viewer gets a 403 (or a 404 for what they can't even see)."""
    resource = _get_resource(request, pk)
    if not may(request.user, Action.CHANGE, resource):
        raise PermissionDenied("Only editors and admins can change the catalog.")
    attach_relation_ids([resource])
    form = ResourceEditForm(request.POST or None, user=request.user, resource=resource)
    preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["definition"])
        elif form.is_stale():
            _report_conflict(form, resource)
            form.reload_version()
            status = 409
        else:
            # A refusal (a duplicate title, the resource deleted meanwhile) shows on the form,
            # with what was typed.
            with refusals_on(form):
                changes = form.changes()
                if changes:
                    resource_update(ctx=_context(request), resource=resource, data=changes)
                messages.success(
                    request, "Saved." if changes else "Nothing changed: nothing was saved."
                )
                return redirect("web:resource", pk=resource.pk)
    return render(
        request,
        "catalog/resource_edit.html",
        {
            "resource": resource,
            "form": form,
            "preview": preview,
            "breadcrumbs": _breadcrumbs(resource),
        },
        status=400 if form.is_bound and form.errors and status == 200 else status,
    )


def _report_conflict(form: ResourceEditForm, resource: Resource) -> None:
    """Someone saved the resource after this form was loaded: say who, and what differs."""
    latest = history_of(resource.pk).first()
    who = latest.change_set.actor_name if latest else "Someone"
    labels = [str(form[name].label) for name in form.changes()]
    differs = f" Your form differs from it in: {', '.join(labels)}." if labels else ""
    form.add_error(
        None,
        f"{who} changed this {resource.get_entity_type_display().lower()} after you opened "
        f"the form, so nothing was saved.{differs} Check the fields below (they hold what you "
        "entered) and press Save again to keep your version.",
    )


@require_POST
@login_required
def markdown_preview(request):
    """The editor's live preview (htmx): the definition as it will be shown, or why it can't
    be saved (too long), as the form would say it. For those who may edit: nobody else has
    a form to preview, and rendering is the costliest thing a page does."""
    if not may(request.user, Action.CHANGE, Resource):
        raise PermissionDenied("Only editors and admins can change the catalog.")
    try:
        text = definition_text(request.POST.get("definition", ""))
    except ValidationError as error:
        # htmx swaps in only a success; without it, the status says what happened.
        context = {"error": error.messages[0]}
        return render(
            request, "catalog/_preview.html", context, status=200 if request.htmx else 400
        )
    return render(request, "catalog/_preview.html", {"preview": render_markdown(text)})


@require_POST
@login_required
def resource_subscribe(request, pk):
    """Follow or stop following (the form's `action`); htmx swaps the button in place, and
    on the resource's page (the form's `show=followers`) its follower count and list too."""
    resource = _get_resource(request, pk)
    follow = request.POST.get("action") != "unsubscribe"
    ctx = _context(request)
    if follow:
        subscriptions_add(ctx=ctx, user=request.user, resource_ids=[resource.pk])
    else:
        subscriptions_remove(ctx=ctx, user=request.user, resource_ids=[resource.pk])
    if request.htmx:
        context = {"resource": resource, "subscribed": follow}
        if request.POST.get("show") == "followers":
            context["followers"] = _followers_of(request, resource)
            context["subscribed"] = context["followers"].subscribed
            context["swap_followers"] = True
        return render(request, "catalog/_subscribe.html", context)
    messages.success(
        request,
        f"You follow “{resource.title}”."
        if follow
        else f"You no longer follow “{resource.title}”.",
    )
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("web:resource", pk=resource.pk)


@require_GET
@login_required
def subscriptions(request):
    """What the user follows (and may still see)."""
    followed = (
        _visible(request)
        .filter(subscribers=request.user)
        .select_related(*_PARENTS)
        .order_by("entity_type", "title", "id")
    )
    page = _page(request, followed, PAGE_SIZE)
    return render(request, "catalog/subscriptions.html", {"page": page})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache  # a new key's secret is on the page: no browser or proxy may keep it
@login_required
def user_settings(request):
    """The user's email preference and API keys; a new key is shown in the answer to the form
    that created it, and kept nowhere (not in a message, a cookie or a redirect)."""
    user = request.user
    ctx = _context(request)
    email_form = EmailPreferenceForm(initial={"email_frequency": user.email_frequency})
    key_form = ApiKeyForm()
    new_key = None
    status = 200
    if request.method == "POST":
        if "email_frequency" in request.POST:
            email_form = EmailPreferenceForm(request.POST)
            if email_form.is_valid():
                with refusals_on(email_form):
                    user_update_profile(ctx=ctx, user=user, data=email_form.cleaned_data)
                    messages.success(request, "Your email preference is saved.")
                    return redirect("web:settings")
        else:
            key_form = ApiKeyForm(request.POST)
            if key_form.is_valid():
                with refusals_on(key_form):
                    _key, new_key = api_key_create(
                        ctx=ctx, user=user, name=key_form.cleaned_data["name"]
                    )
                    key_form = ApiKeyForm()
        status = 400 if (email_form.errors or key_form.errors) else 200
    keys = ApiKey.objects.filter(user=user).order_by("-created_at")
    return render(
        request,
        "catalog/settings.html",
        {"email_form": email_form, "key_form": key_form, "new_key": new_key, "keys": keys},
        status=status,
    )


@require_POST
@login_required
def api_key_revoke_view(request, pk):
    key = ApiKey.objects.filter(pk=pk, user=request.user).first()
    if key is None:
        raise Http404("No such key.")
    api_key_revoke(ctx=_context(request), key=key)
    messages.success(request, f"The key “{key.name or key.prefix}” is revoked.")
    return redirect("web:settings")
