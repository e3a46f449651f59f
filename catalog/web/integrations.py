"""The integrations pages: each source of events with its events, violations, validation mode
and write keys.

Editors and admins read them (they show what trackers sent and what broke the plan, which the
policy keeps from viewers); admins change the validation mode and the discovery limits
(`workspace_object_update`, recorded in the history) and create and revoke write keys
(`catalog.services.writekeys`, recorded too). Each page costs a constant number of queries
whatever the number of integrations, events, violations and keys (tests assert it).
"""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import (
    DISCOVERY_LIMITS,
    ChangeSource,
    DailyVolume,
    EntityType,
    Integration,
    Resource,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationKind,
    WriteKey,
)
from catalog.policy import Action, may
from catalog.refusals import refusals_on
from catalog.selectors import daily_volumes_of, utc_today
from catalog.services.context import ChangeContext
from catalog.services.workspace import workspace_object_update
from catalog.services.writekeys import write_key_create, write_key_revoke

from .forms import NoColonLabels

#: The busiest events an integration's page lists (the events page has them all).
TOP_EVENTS = 10

#: What each validation mode does with what arrives, as the mode control says it (the
#: ingestion guide, docs/INGESTION.md, says it at length).
MODE_HELP = {
    ValidationMode.DISCOVER: (
        "Events and properties the catalog doesn't know are added to it, unverified and "
        "unpublished, within the discovery limits below; what breaks the plan of known events "
        "is recorded as a violation. Everything is accepted."
    ),
    ValidationMode.FLAG: (
        "Everything is accepted and nothing is added to the catalog; unknown events and "
        "properties, missing required properties, wrong types and values not allowed are "
        "recorded as violations."
    ),
    ValidationMode.BLOCK: (
        "Only events registered in the catalog are accepted: an event that breaks the plan is "
        "refused and not stored, unknown properties are removed; violations are recorded too."
    ),
}
MODE_NAMES = {
    ValidationMode.DISCOVER: "Discover",
    ValidationMode.FLAG: "Flag",
    ValidationMode.BLOCK: "Block",
}
LIMIT_FIELDS = tuple(DISCOVERY_LIMITS)


def _ensure_may_read(user) -> None:
    """The pages show received traffic and violations: for those who may read them."""
    if not may(user, Action.VIEW, Violation):
        raise PermissionDenied(
            "Only editors and admins see the integrations: their traffic, violations and "
            "write keys."
        )


def _may_manage(user) -> bool:
    """Changing an integration and its write keys is the admins' (see `catalog.policy`)."""
    return may(user, Action.CHANGE, Integration) and may(user, Action.ADD, WriteKey)


def open_violations():
    """The violations still open (a resolved one reopens when it happens again)."""
    return Violation.objects.filter(resolved_at__isnull=True)


def violations_url(integration_id, kind: str = "") -> str:
    """The violations page, filtered to one integration (and kind)."""
    query = {"integration": integration_id, **({"kind": kind} if kind else {})}
    return f"{reverse('web:violations')}?{urlencode(query)}"


def _count_of(queryset) -> Coalesce:
    """A correlated COUNT(*) of `queryset` (filtered on OuterRef("pk")), 0 when empty."""
    counted = queryset.order_by().values("integration_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _integrations_with_figures():
    """Every integration with its figures, in one query: events, properties, when one of its
    events last arrived, its open violations (rows and occurrences) and active write keys."""
    mine = Q(integration_id=OuterRef("pk"))
    resources = Resource.objects.filter(mine)
    last_seen = (
        ResourceSeen.objects.filter(
            resource__integration_id=OuterRef("pk"), resource__entity_type=EntityType.EVENT
        )
        .order_by("-last_seen_at")
        .values("last_seen_at")[:1]
    )
    occurrences = (
        open_violations()
        .filter(mine)
        .order_by()
        .values("integration_id")
        .annotate(total=Sum("count"))
        .values("total")
    )
    return Integration.objects.order_by("name").annotate(
        event_count=_count_of(resources.filter(entity_type=EntityType.EVENT)),
        property_count=_count_of(resources.filter(entity_type=EntityType.EVENT_PROPERTY)),
        last_seen_at=Subquery(last_seen),
        violation_count=_count_of(open_violations().filter(mine)),
        violation_occurrences=Coalesce(Subquery(occurrences), Value(0)),
        key_count=_count_of(WriteKey.objects.active().filter(mine)),
    )


@require_GET
@login_required
def integrations(request):
    """Every integration: its type, mode, events, freshness and open violations."""
    _ensure_may_read(request.user)
    rows = list(_integrations_with_figures())
    for row in rows:
        row.violations_url = violations_url(row.pk)
        row.mode_name = MODE_NAMES.get(row.validation_mode, row.validation_mode)
    return render(
        request,
        "catalog/integrations.html",
        {"integrations": rows, "may_manage": _may_manage(request.user)},
    )


class IntegrationSettingsForm(NoColonLabels, forms.Form):
    """An integration's validation mode and discovery limits (admins)."""

    validation_mode = forms.ChoiceField(
        label="Validation mode",
        choices=[(mode.value, MODE_NAMES[mode]) for mode in ValidationMode],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, integration: Integration, **kwargs) -> None:
        self.integration = integration
        initial = {name: getattr(integration, name) for name in ("validation_mode", *LIMIT_FIELDS)}
        super().__init__(*args, initial=initial, **kwargs)
        for name in LIMIT_FIELDS:
            field = Integration._meta.get_field(name)
            most = max(v.limit_value for v in field.validators if hasattr(v, "limit_value"))
            self.fields[name] = forms.IntegerField(
                label=field.verbose_name.capitalize(),
                min_value=0,
                max_value=most,
                help_text=f"{field.help_text} Default {DISCOVERY_LIMITS[name]:,}.",
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def modes(self) -> list[dict]:
        """Each radio button with the sentence saying what its mode does."""
        return [
            {"radio": radio, "help": MODE_HELP[ValidationMode(radio.data["value"])]}
            for radio in self["validation_mode"]
        ]

    def limits(self) -> list:
        return [self[name] for name in LIMIT_FIELDS]

    def changes(self) -> dict:
        """Only what differs from the integration: the history records these."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value != getattr(self.integration, name)
        }


class WriteKeyForm(NoColonLabels, forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=200,
        help_text="Where the key is used, such as “Web app production”.",
    )


def _breadcrumbs(integration: Integration | None = None) -> list[tuple[str, str]]:
    crumbs = [("Integrations", reverse("web:integrations"))]
    if integration is not None:
        crumbs.append((integration.name, reverse("web:integration", args=[integration.pk])))
    return crumbs


def _get_integration(pk) -> Integration:
    integration = Integration.objects.filter(pk=pk).first()
    if integration is None:
        raise Http404("No such integration.")
    return integration


def _top_events(integration: Integration, today: dt.date) -> list[Resource]:
    """The integration's busiest events of the last 30 days, each with its total, daily
    counts and last arrival: three queries, whatever the number of events."""
    since = today - dt.timedelta(days=29)
    totals = list(
        DailyVolume.objects.filter(
            resource__integration=integration,
            resource__entity_type=EntityType.EVENT,
            day__gte=since,
            day__lte=today,
        )
        .order_by()
        .values("resource_id")
        .annotate(total=Sum("count"))
        .order_by("-total", "resource_id")[:TOP_EVENTS]
    )
    if not totals:
        return []
    ids = [row["resource_id"] for row in totals]
    events = Resource.objects.select_related("seen", "parent").in_bulk(ids)
    daily = daily_volumes_of(ids, today=today)
    top = []
    for row in totals:
        event = events.get(row["resource_id"])
        if event is None:
            continue
        event.volume_30d = int(row["total"])
        event.daily = daily[event.pk]
        event.last_seen_at = event.seen.last_seen_at if hasattr(event, "seen") else None
        top.append(event)
    return top


def _violation_kinds(integration: Integration) -> list[dict]:
    """Open violations by kind: how many distinct ones, how often, and when last."""
    rows = (
        open_violations()
        .filter(integration=integration)
        .order_by()
        .values("kind")
        .annotate(rows=Count("id"), occurrences=Sum("count"), last_seen_at=Max("last_seen_at"))
        .order_by("-occurrences", "kind")
    )
    labels = dict(ViolationKind.choices)
    return [
        {
            **row,
            "label": labels.get(row["kind"], row["kind"]),
            "url": violations_url(integration.pk, row["kind"]),
        }
        for row in rows
    ]


def _counts(integration: Integration) -> dict:
    counts = dict(
        Resource.objects.filter(integration=integration)
        .order_by()
        .values_list("entity_type")
        .annotate(n=Count("id"))
    )
    return {
        "categories": counts.get(EntityType.EVENT_CATEGORY, 0),
        "events": counts.get(EntityType.EVENT, 0),
        "properties": counts.get(EntityType.EVENT_PROPERTY, 0),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def integration_detail(request, pk):
    """An integration: its description, busiest events, violations, validation mode (a form
    for admins) and write keys (admins)."""
    _ensure_may_read(request.user)
    integration = _get_integration(pk)
    may_manage = _may_manage(request.user)
    form = IntegrationSettingsForm(integration=integration) if may_manage else None
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only admins can change an integration.")
        form = IntegrationSettingsForm(request.POST, integration=integration)
        if form.is_valid():
            with refusals_on(form):
                changes = form.changes()
                if changes:
                    ctx = ChangeContext.for_request(request, ChangeSource.WEB)
                    workspace_object_update(ctx=ctx, obj=integration, data=changes)
                    mode = MODE_NAMES[ValidationMode(form.cleaned_data["validation_mode"])]
                    messages.success(request, f"Saved. The validation mode is {mode}.")
                else:
                    messages.info(request, "Nothing changed: nothing was saved.")
                return redirect("web:integration", pk=integration.pk)
        status = 400
    return render(
        request,
        "catalog/integration_detail.html",
        _detail_context(request, integration, form=form, may_manage=may_manage),
        status=status,
    )


def _detail_context(request, integration: Integration, *, form, may_manage: bool) -> dict:
    keys = None
    if may_manage:
        keys = list(
            WriteKey.objects.filter(integration=integration)
            .select_related("created_by")
            .order_by("revoked_at", "-created_at")
        )
    return {
        "integration": integration,
        "breadcrumbs": _breadcrumbs(),
        "mode_name": MODE_NAMES.get(integration.validation_mode, integration.validation_mode),
        "mode_help": MODE_HELP.get(integration.validation_mode, ""),
        "limits": [
            (Integration._meta.get_field(name).verbose_name, getattr(integration, name))
            for name in LIMIT_FIELDS
        ],
        "counts": _counts(integration),
        "top_events": _top_events(integration, utc_today()),
        "violation_kinds": _violation_kinds(integration),
        "violations_url": violations_url(integration.pk),
        "form": form,
        "may_manage": may_manage,
        "keys": keys,
        "key_form": WriteKeyForm() if may_manage else None,
    }


def _ensure_may_manage(request) -> None:
    _ensure_may_read(request.user)
    if not _may_manage(request.user):
        raise PermissionDenied("Only admins can manage write keys.")


@require_POST
@never_cache  # the new key's secret is on the page: no browser or proxy may keep it
@login_required
def write_key_create_view(request, pk):
    """Create a write key; its secret is shown in this answer only, and kept nowhere (not in
    a message, a cookie or a redirect)."""
    _ensure_may_manage(request)
    integration = _get_integration(pk)
    form = WriteKeyForm(request.POST)
    if form.is_valid():
        with refusals_on(form):
            key, secret = write_key_create(
                ctx=ChangeContext.for_request(request, ChangeSource.WEB),
                integration=integration,
                name=form.cleaned_data["name"],
            )
            context = {
                "integration": integration,
                "key": key,
                "secret": secret,
                "origin": request.build_absolute_uri("/").rstrip("/"),
                "api_host": f"{request.get_host()}/v1",
                "breadcrumbs": _breadcrumbs(integration),
            }
            return render(request, "catalog/write_key_created.html", context)
    context = _detail_context(
        request, integration, form=IntegrationSettingsForm(integration=integration), may_manage=True
    )
    context["key_form"] = form
    return render(request, "catalog/integration_detail.html", context, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def write_key_revoke_view(request, pk, key_pk):
    """Ask, then revoke a write key: trackers using it are refused from then on."""
    _ensure_may_manage(request)
    key = WriteKey.objects.select_related("integration").filter(pk=key_pk, integration=pk).first()
    if key is None:
        raise Http404("No such write key.")
    if request.method == "POST":
        if key.revoked_at is None:
            write_key_revoke(ctx=ChangeContext.for_request(request, ChangeSource.WEB), key=key)
            messages.success(
                request,
                f"The write key “{key.name or key.prefix}” is revoked: events sent with it are "
                "refused from now on.",
            )
        else:
            messages.info(request, f"The write key “{key.name or key.prefix}” was revoked already.")
        return redirect(f"{reverse('web:integration', args=[pk])}#write-keys")
    context = {"key": key, "breadcrumbs": _breadcrumbs(key.integration)}
    return render(request, "catalog/write_key_revoke.html", context)
