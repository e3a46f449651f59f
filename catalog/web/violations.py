"""The violations page: what broke the tracking plan, across integrations, for stewards.

Open violations grouped by event (and integration), a row per kind and property, with
counts, first and last seen and a 14-day trend; resolved ones in their own tab with who
resolved them and when. "Resolve" goes through `catalog.services.violations`; a violation
that happens again reopens (ingestion clears the resolution).

A page costs a constant number of queries: the filter's integrations, the count, the page
(with its integration, event and resolver joined) and the page's daily counts.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog.models import ChangeSource, Integration, Violation, ViolationKind
from catalog.policy import Action, ensure
from catalog.selectors import violation_days_of
from catalog.services.context import ChangeContext
from catalog.services.violations import violation_resolve

PAGE_SIZE = 50
#: Days of each violation's trend.
TREND_DAYS = 14
OPEN, RESOLVED = "open", "resolved"


class ViolationFilterForm(forms.Form):
    """The page's filters; a value it can't read is left out and said so."""

    integration = forms.ChoiceField(required=False, label="Integration")
    kind = forms.ChoiceField(
        required=False, label="Kind", choices=[("", "Any kind"), *ViolationKind.choices]
    )
    q = forms.CharField(
        required=False,
        max_length=255,
        label="Event name",
        help_text="Part of the event's name.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, data, *, integrations):
        super().__init__(data)
        self.fields["integration"].choices = [
            ("", "All integrations"),
            *((str(i.pk), i.name) for i in integrations),
        ]

    def applied(self) -> dict:
        """The filters that are valid (all of them when the form is)."""
        self.is_valid()
        return {
            name: self.cleaned_data[name]
            for name in self.fields
            if name not in self.errors and self.cleaned_data.get(name)
        }


def _integrations():
    return list(Integration.objects.order_by("name", "id").only("id", "name"))


@require_GET
@login_required
def violations(request):
    """Open violations (or, with `status=resolved`, resolved ones), filtered and paged."""
    ensure(request.user, Action.VIEW, Violation)
    status = RESOLVED if request.GET.get("status") == RESOLVED else OPEN
    integrations = _integrations()
    form = ViolationFilterForm(request.GET, integrations=integrations)
    applied = form.applied()
    if form.errors:
        reasons = "; ".join(
            f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        messages.warning(request, f"Some filters were left out: {reasons}")
    rows = Violation.objects.select_related("integration", "event", "resolved_by").only(
        *(
            "integration__name",
            "event__title",
            "resolved_by__username",
            "resolved_by__first_name",
            "resolved_by__last_name",
        ),
        *(
            f.name
            for f in Violation._meta.concrete_fields
            if f.name not in {"example", "integration", "event", "resolved_by"}
        ),
        "integration",
        "event",
        "resolved_by",
    )
    if status == OPEN:
        rows = rows.filter(resolved_at__isnull=True).order_by(
            "event_name", "integration__name", "integration_id", "kind", "property_name", "id"
        )
    else:
        rows = rows.filter(resolved_at__isnull=False).order_by("-resolved_at", "-id")
    if "integration" in applied:
        rows = rows.filter(integration_id=applied["integration"])
    if "kind" in applied:
        rows = rows.filter(kind=applied["kind"])
    if "q" in applied:
        rows = rows.filter(event_name__icontains=applied["q"])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    trends = violation_days_of((v.pk for v in page.object_list), days=TREND_DAYS)
    for violation in page.object_list:
        violation.trend = trends[violation.pk]
        violation.group = (violation.event_name, violation.integration_id)
    query = request.GET.copy()
    query.pop("page", None)
    tab_query = query.copy()
    tab_query.pop("status", None)
    return render(
        request,
        "catalog/violations.html",
        {
            "form": form,
            "page": page,
            "status": status,
            "query": query.urlencode(),
            "tab_query": tab_query.urlencode(),
            "filtered": bool(applied),
            "trend_days": TREND_DAYS,
            "here": request.get_full_path(),
        },
    )


@require_POST
@login_required
def violation_resolve_view(request, pk):
    """Mark one violation resolved; back to the page the button was on."""
    ensure(request.user, Action.VIEW, Violation)
    violation = Violation.objects.filter(pk=pk).first()
    if violation is None:
        raise Http404("No such violation: it may have been deleted.")
    try:
        violation = violation_resolve(
            ctx=ChangeContext.for_request(request, ChangeSource.WEB), violation=violation
        )
    except Violation.DoesNotExist as error:
        raise Http404("No such violation: it was deleted meanwhile.") from error
    messages.success(
        request,
        f"Resolved: {violation}. It reopens if it happens again.",
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not back.startswith(reverse("web:violations")):
        back = reverse("web:violations")
    return redirect(back)
