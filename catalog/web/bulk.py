"""Bulk edit on the events list: set PII, verified and published, add or remove owners and
tags, on the events ticked on a page or on every event matching the list's filters.

The whole edit goes through the bulk services (`resources_bulk_update`,
`resources_bulk_add_relations`, `resources_bulk_remove_relations`) inside `one_change_set`,
so it is one change set: one entry in each event's history, undone by one "Undo". Only those
the policy lets change the catalog see the controls; anyone else gets a 403.
"""

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.filtersets import EventFilterSet
from catalog.models import ChangeSource, EntityType, Resource, Tag, User
from catalog.policy import Action, changes_visible_to, may, resources_visible_to
from catalog.refusals import refusals_on
from catalog.selectors import title_order
from catalog.services.changes import one_change_set
from catalog.services.context import ChangeContext
from catalog.services.resources import (
    resources_bulk_add_relations,
    resources_bulk_remove_relations,
    resources_bulk_update,
)

from .forms import NoColonLabels, people_choices

#: The most events one bulk edit changes ("all matching these filters" included): a few
#: seconds of work, and one change set a person can still read and undo.
BULK_MAX = 10_000
#: The most owners or tags one field of the form takes.
MAX_PICKS = 200
#: The events a confirmation or a summary names; the count says how many more.
NAMED = 20

FLAG_CHOICES = [("", "Leave as is"), ("yes", "Yes"), ("no", "No")]
FLAGS = {"pii": "PII", "verified": "Verified", "published": "Published"}
RELATIONS = {
    "add_owners": ("owners", True),
    "remove_owners": ("owners", False),
    "add_tags": ("tags", True),
    "remove_tags": ("tags", False),
}
SELECTED, PAGE, MATCHING = "selected", "page", "matching"


def may_bulk_edit(user) -> bool:
    return may(user, Action.CHANGE, Resource)


def _ensure_may_bulk_edit(user) -> None:
    if not may_bulk_edit(user):
        raise PermissionDenied("Only editors and admins can change the catalog.")


class UUIDList(forms.Field):
    """Several UUIDs (a multiple select's values, or ticked boxes); at most `limit`."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, limit: int, what: str, **kwargs) -> None:
        self.limit, self.what = limit, what
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> list[uuid.UUID]:
        values = [value] if isinstance(value, str) else list(value or ())
        if len(values) > self.limit:
            raise ValidationError(f"At most {self.limit:,} {self.what} at once.")
        found = []
        for item in values:
            try:
                found.append(uuid.UUID(str(item)))
            except ValueError:
                raise ValidationError(
                    f"“{str(item)[:40]!s}” does not name one of the {self.what}."
                ) from None
        return list(dict.fromkeys(found))


def _picker(name: str, label: str, help_text: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.SelectMultiple(attrs={"data-picker": name, "size": 4}),
    )


class BulkEditForm(NoColonLabels, forms.Form):
    """What to change on the chosen events; every field may be left as it is."""

    scope = forms.ChoiceField(
        label="Apply to",
        choices=[
            (SELECTED, "The events I tick below"),
            (PAGE, "Every event on this page"),
            (MATCHING, "Every event matching these filters"),
        ],
        initial=SELECTED,
        widget=forms.RadioSelect,
    )
    ids = UUIDList(limit=BULK_MAX, what="events")
    page_ids = UUIDList(limit=BULK_MAX, what="events")
    #: The list's filters (its query string), for "every event matching" and the way back.
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    pii = forms.ChoiceField(label="PII", choices=FLAG_CHOICES, required=False)
    verified = forms.ChoiceField(choices=FLAG_CHOICES, required=False)
    published = forms.ChoiceField(choices=FLAG_CHOICES, required=False)
    add_owners = _picker("owners", "Add owners", "They also follow the events.")
    remove_owners = _picker("owners", "Remove owners", "Where they own one.")
    add_tags = _picker("tags", "Add tags", "Kept with the tags each event has.")
    remove_tags = _picker("tags", "Remove tags", "Where an event has them.")

    def __init__(self, *args, people: list, tags: list, **kwargs) -> None:
        # Its ids differ from the filter form's beside it (both have "PII", "Verified"...).
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        for name in ("add_owners", "remove_owners"):
            self.fields[name].choices = people
        for name in ("add_tags", "remove_tags"):
            self.fields[name].choices = tags
        for name in RELATIONS:
            self.fields[name].error_messages["invalid_choice"] = (
                "“%(value)s” is not among the choices: deleted meanwhile? Reload the list."
            )

    def clean(self):
        data = super().clean()
        for name in RELATIONS:
            if len(data.get(name) or ()) > MAX_PICKS:
                self.add_error(name, f"At most {MAX_PICKS} at once.")
        for field in ("owners", "tags"):
            both = set(data.get(f"add_{field}") or ()) & set(data.get(f"remove_{field}") or ())
            if both:
                self.add_error(
                    f"remove_{field}",
                    f"The same {field[:-1]} can't be added and removed: choose one.",
                )
        if not self.errors and not self.changes_asked():
            raise ValidationError(
                "Choose something to change: a yes or no, or owners or tags to add or remove."
            )
        return data

    def flags(self) -> dict:
        return {
            name: self.cleaned_data[name] == "yes" for name in FLAGS if self.cleaned_data.get(name)
        }

    def relations(self) -> dict[str, list[str]]:
        return {name: self.cleaned_data.get(name) or [] for name in RELATIONS}

    def changes_asked(self) -> bool:
        return bool(self.flags()) or any(self.relations().values())

    def describe(self) -> list[str]:
        """What the edit does, a line each, as people read it."""
        lines = [
            f"{label}: {'yes' if self.flags()[name] else 'no'}"
            for name, label in FLAGS.items()
            if name in self.flags()
        ]
        for name, ids in self.relations().items():
            if ids:
                names = dict(self.fields[name].choices)
                shown = ", ".join(names.get(pk, pk) for pk in ids)
                lines.append(f"{self.fields[name].label}: {shown}")
        return lines


def bulk_form(data=None, *, initial=None, people=None, tags=None) -> BulkEditForm:
    """The form with its owners (active people, by name) and tags offered: `people` and
    `tags` as (id, name) choices when the caller has them, else two queries."""
    if people is None:
        users = User.objects.filter(is_active=True).only(
            "id", "username", "first_name", "last_name"
        )
        people = people_choices(users)
    if tags is None:
        rows = Tag.objects.order_by("title").values_list("pk", "title")
        tags = [(str(pk), title) for pk, title in rows]
    return BulkEditForm(data, initial=initial, people=people, tags=tags)


def _events_url(query: str) -> str:
    return f"{reverse('web:events')}?{query}" if query else reverse("web:events")


def _query_of(form: BulkEditForm) -> str:
    """The list's query string as posted, without NULs (they name nothing and break URLs)."""
    return (form.cleaned_data.get("query") or "").replace("\x00", "")


class _Refused(Exception):
    """The chosen events can't be edited as asked; the message says why."""


def _chosen(request, form: BulkEditForm) -> list:
    """The ids of the events the form chose that the user may see, or `_Refused`."""
    scope = form.cleaned_data["scope"]
    visible = resources_visible_to(request.user, EntityType.EVENT)
    if scope == MATCHING:
        filters = EventFilterSet(
            QueryDict(_query_of(form)), queryset=visible.order_by(), request=request
        )
        if not filters.is_valid():
            raise _Refused("The list's filters were not understood: go back and apply them again.")
        ids = list(filters.qs.order_by().values_list("pk", flat=True)[: BULK_MAX + 1])
        if len(ids) > BULK_MAX:
            raise _Refused(
                f"More than {BULK_MAX:,} events match these filters; a bulk edit changes at "
                f"most {BULK_MAX:,} at once. Narrow the filters (by integration, category or "
                "tag) and edit each part."
            )
        return ids
    wanted = form.cleaned_data["ids" if scope == SELECTED else "page_ids"]
    if not wanted:
        raise _Refused(
            "No event was chosen: tick the events to change, or choose “Every event on this page”."
        )
    found = list(visible.filter(pk__in=wanted).values_list("pk", flat=True))
    if missing := len(wanted) - len(found):
        gone = "1 chosen event was" if missing == 1 else f"{missing:,} chosen events were"
        messages.warning(request, f"{gone} not found (deleted meanwhile?) and left out.")
    return found


def _apply(request, form: BulkEditForm, ids: list) -> tuple[int, object]:
    """Make the edit on `ids` as one change set: (events changed, the change set or None)."""
    ctx = ChangeContext.for_request(request, ChangeSource.WEB)
    with transaction.atomic(), one_change_set(ctx) as inner:
        if flags := form.flags():
            resources_bulk_update(ctx=inner, resources=ids, data=flags)
        for name, values in form.relations().items():
            if not values:
                continue
            field, add = RELATIONS[name]
            service = resources_bulk_add_relations if add else resources_bulk_remove_relations
            service(ctx=inner, resources=ids, field=field, ids=values)
        changed = len({str(change.object_id) for change in inner.collector.changes})
    return changed, inner.collector.change_set


def _named(ids: list) -> list:
    """The first events of `ids` by title, to name on a page (one query)."""
    return list(
        Resource.objects.filter(pk__in=ids[:BULK_MAX])
        .order_by(*title_order())
        .only("id", "title")[:NAMED]
    )


@require_POST
@login_required
def events_bulk(request):
    """Apply a bulk edit from the events list (see the module's docstring).

    Ticked rows and "every event on this page" are applied at once; "every event matching
    these filters" first shows what will change and how many events, to confirm. A form that
    can't be applied comes back with what is wrong (400), nothing changed.
    """
    _ensure_may_bulk_edit(request.user)
    form = bulk_form(request.POST)
    status, ids, refusal = 400, [], ""
    if form.is_valid():
        try:
            ids = _chosen(request, form)
        except _Refused as refused:
            refusal = str(refused)
        else:
            if not ids:
                refusal = "None of the chosen events exists any more (deleted meanwhile?)."
            elif form.cleaned_data["scope"] != MATCHING or "confirm" in request.POST:
                with refusals_on(form):
                    return _done(request, form, ids)
            else:
                status = 200  # the confirmation
    query = _query_of(form) if form.is_bound and hasattr(form, "cleaned_data") else ""
    context = {
        "form": form,
        "refusal": refusal,
        "count": len(ids),
        "named": _named(ids),
        "changes": form.describe() if form.is_valid() else [],
        "back": _events_url(query),
        "bulk_max": BULK_MAX,
        "bulk_max_text": f"{BULK_MAX:,}",
    }
    return render(request, "catalog/events_bulk.html", context, status=status)


def _done(request, form: BulkEditForm, ids: list):
    changed, change_set = _apply(request, form, ids)
    query = _query_of(form)
    if change_set is None:
        messages.info(request, "Nothing changed: the chosen events already were as asked.")
        return redirect(_events_url(query))
    what = "1 event" if changed == 1 else f"{changed:,} events"
    messages.success(request, f"Changed {what}: {'; '.join(form.describe())}.")
    summary = reverse("web:events_bulk_done", args=[change_set.pk])
    return redirect(f"{summary}?{urlencode({'back': query})}" if query else summary)


@require_GET
@login_required
def events_bulk_done(request, change_set):
    """What a bulk edit changed: how many events, which (the first few), what, by whom; each
    event's history holds it, with the button that undoes the whole edit."""
    _ensure_may_bulk_edit(request.user)
    changes = changes_visible_to(request.user).filter(
        change_set_id=change_set, object_type=EntityType.EVENT
    )
    first = changes.select_related("change_set").order_by("id").first()
    if first is None:
        raise Http404("No such bulk edit.")
    events = list(changes.order_by().values_list("object_id", flat=True).distinct())
    back = request.GET.get("back", "").replace("\x00", "")[:4000]
    context = {
        "change_set": first.change_set,
        "count": len(events),
        "named": _named(events),
        "history": reverse("web:resource_history", args=[first.object_id]),
        "first": first,
        "back": _events_url(back),
    }
    return render(request, "catalog/events_bulk_done.html", context)
