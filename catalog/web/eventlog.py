"""The event log page: the newest received events, for stewards, refreshed while open.

Reads `LoggedEvent` newest first by keyset: "Older" pages continue below the last row shown
by (received_at, id), so no page ever skips rows with an OFFSET over a week of events. The
filters (integration, exact event name, a time range) narrow the indexes the table has:
(received_at, id), (integration, received_at) and (integration, name, received_at).

While the first page is open, htmx asks every `EVENT_LOG_POLL_SECONDS` for the events that
arrived after its newest row (`after`), oldest first, at most a page, and prepends them; the
answer is a 204 when nothing arrived, so the page and its screen reader stay quiet. Pages of
older events, a range that ends (`to`) and "Pause" don't poll.

Payloads are shown with PII-flagged values masked (`catalog.selectors.mask_pii`). A page
costs a constant number of queries: the integrations, the page, the masking (two) and the
catalog events its names link to (one).
"""

import datetime as dt
import json
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from catalog.models import EntityType, Integration, LoggedEvent
from catalog.policy import Action, ensure, resources_visible_to
from catalog.selectors import mask_pii
from catalog.timestamps import OutOfRange, parse_moment

PAGE_SIZE = 50
#: Seconds between two polls of an open first page (a setting, so tests can shorten it).
DEFAULT_POLL_SECONDS = 5
#: Separates a cursor's time from its id: (received_at, id) of a row, as text.
_CURSOR_SEPARATOR = "~"


def poll_seconds() -> str:
    """The polling interval as htmx reads it (5, 0.5)."""
    return f"{float(getattr(settings, 'EVENT_LOG_POLL_SECONDS', DEFAULT_POLL_SECONDS)):g}"


def cursor_of(event: LoggedEvent) -> str:
    return f"{event.received_at.isoformat()}{_CURSOR_SEPARATOR}{event.id}"


def parse_cursor(value: str) -> tuple[dt.datetime, uuid.UUID] | None:
    """A cursor made by `cursor_of`, or None when it isn't one."""
    when, _, pk = value.rpartition(_CURSOR_SEPARATOR)
    try:
        moment = parse_moment(when) if "\x00" not in value else None
        return (moment, uuid.UUID(pk)) if moment is not None else None
    except (ValueError, OutOfRange):
        return None


class _MomentField(forms.CharField):
    """An ISO 8601 date, or date and time (UTC unless it names an offset)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=64, **kwargs)

    def clean(self, value):
        value = super().clean(value).strip()
        if not value:
            return None
        try:
            moment = parse_moment(value)
        except OutOfRange as error:
            raise forms.ValidationError(str(error)) from error
        if moment is None:
            raise forms.ValidationError(
                f"{value!r} is not a date: write it as 2026-12-07 or 2026-12-07T14:30 (UTC)."
            )
        return moment


class EventLogFilterForm(forms.Form):
    integration = forms.ChoiceField(required=False, label="Integration")
    name = forms.CharField(
        required=False,
        max_length=255,
        label="Event name",
        help_text="The exact name, as sent.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    start = _MomentField(
        label="From",
        help_text="UTC, e.g. 2026-12-07 or 2026-12-07T14:30.",
    )
    end = _MomentField(
        label="To",
        help_text="UTC; a range that ends doesn't refresh.",
    )

    def __init__(self, data, *, integrations):
        super().__init__(data)
        self.fields["integration"].choices = [
            ("", "All integrations"),
            *((str(i.pk), i.name) for i in integrations),
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "Must be after “From”.")
        return data

    def applied(self) -> dict:
        self.is_valid()
        return {
            name: self.cleaned_data[name]
            for name in self.fields
            if name not in self.errors and self.cleaned_data.get(name)
        }


def _filtered(applied: dict):
    rows = LoggedEvent.objects.all()
    if "integration" in applied:
        rows = rows.filter(integration_id=applied["integration"])
    if "name" in applied:
        rows = rows.filter(name=applied["name"])
    if "start" in applied:
        rows = rows.filter(received_at__gte=applied["start"])
    if "end" in applied:
        rows = rows.filter(received_at__lt=applied["end"])
    return rows


def _decorate(request, events: list, integrations: dict) -> None:
    """Give each row what the page shows: its integration's name, its masked payload as
    pretty JSON, and the catalog event its name links to (one query for the page)."""
    mask_pii(events)
    names = {e.name for e in events if e.name and e.type == "track"}
    links = {}
    if names:
        found = (
            resources_visible_to(request.user, EntityType.EVENT)
            .filter(integration_id__in={e.integration_id for e in events}, title__in=names)
            .order_by("created_at", "id")
            .values_list("integration_id", "title", "pk")
        )
        for integration_id, title, pk in found:
            links.setdefault((integration_id, title), pk)
    for event in events:
        event.integration_name = integrations.get(event.integration_id, "(deleted)")
        event.payload = json.dumps(event.shown_properties, indent=2, ensure_ascii=False)
        pk = links.get((event.integration_id, event.name))
        event.event_url = reverse("web:resource", args=[pk]) if pk else None


@require_GET
@login_required
def event_log(request):
    """The newest received events, filtered, by pages of `PAGE_SIZE` going back in time;
    with `after` (htmx polling), only those that arrived after that cursor."""
    ensure(request.user, Action.VIEW, LoggedEvent)
    integrations = list(Integration.objects.order_by("name", "id").only("id", "name"))
    names = {i.pk: i.name for i in integrations}
    form = EventLogFilterForm(request.GET, integrations=integrations)
    applied = form.applied()
    rows = _filtered(applied)
    if request.htmx and "after" in request.GET:
        return _newer(request, rows, names)
    if form.errors:
        reasons = "; ".join(
            f"{form.fields[name].label if name in form.fields else 'Filters'}: " + " ".join(errors)
            for name, errors in form.errors.items()
        )
        messages.warning(request, f"Some filters were left out: {reasons}")
    before = parse_cursor(request.GET.get("before", "")) if request.GET.get("before") else None
    bad_cursor = bool(request.GET.get("before")) and before is None
    if before is not None:
        moment, pk = before
        rows = rows.filter(received_at__lte=moment).exclude(received_at=moment, id__gte=pk)
    events = list(rows.order_by("-received_at", "-id")[: PAGE_SIZE + 1])
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    _decorate(request, events, names)
    query = request.GET.copy()
    for key in ("before", "after", "live"):
        query.pop(key, None)
    live = before is None and "end" not in applied and request.GET.get("live") != "0"
    newest = (
        cursor_of(events[0])
        if events
        else f"{timezone.now().isoformat()}{_CURSOR_SEPARATOR}{uuid.UUID(int=0)}"
    )
    return render(
        request,
        "catalog/event_log.html",
        {
            "form": form,
            "events": events,
            "query": query.urlencode(),
            "older": cursor_of(events[-1]) if more else None,
            "paged": before is not None,
            "bad_cursor": bad_cursor,
            "live": live,
            "paused": request.GET.get("live") == "0",
            "can_live": before is None and "end" not in applied,
            "newest": newest,
            "poll_seconds": poll_seconds(),
            "filtered": bool(applied),
            "retention_days": settings.EVENT_LOG_RETENTION_DAYS,
        },
    )


def _newer(request, rows, names: dict):
    """The rows that arrived after the `after` cursor, newest first, to prepend; at most a
    page (the oldest of them, so the next poll continues without a gap). 204 when none."""
    after = parse_cursor(request.GET.get("after", ""))
    if after is None:
        return HttpResponse(status=204)
    moment, pk = after
    rows = rows.filter(received_at__gte=moment).exclude(received_at=moment, id__lte=pk)
    events = list(rows.order_by("received_at", "id")[:PAGE_SIZE])
    if not events:
        return HttpResponse(status=204)
    events.reverse()
    _decorate(request, events, names)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "catalog/_event_log_new.html",
        {
            "events": events,
            "query": query.urlencode(),
            "newest": cursor_of(events[0]),
            "poll_seconds": poll_seconds(),
            "arrived": len(events),
        },
    )
