"""What every catalog admin shares: permissions asked of the policy, services run with the
admin's change context (their refusals shown to the user, not as a 500), and autocomplete
widgets that survive a tampered form."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from catalog.models import ChangeSource
from catalog.notifications.linediff import shared_budget
from catalog.policy import Action, may, resource_visibility
from catalog.refusals import REFUSALS, refusal_messages, show_on_form
from catalog.selectors import hide_unseen_labels, history_of
from catalog.services.context import ChangeContext

from .lookups import OwnLookupsOnlyMixin


def change_context(request) -> ChangeContext:
    return ChangeContext.for_request(request, ChangeSource.ADMIN)


def is_id_of(model, value: str) -> bool:
    """Whether `value` could be an id of `model` (a tampered form sends "abc" for a UUID, a
    number past 64 bits or a NUL), so that it can be left out instead of failing a query."""
    try:
        pk = model._meta.pk.to_python(value)
    except ValidationError:
        return False
    if isinstance(pk, int):
        return -(2**63) <= pk < 2**63  # what the database's integers hold
    return "\x00" not in str(value)


class KnownValuesOnly:
    """For Django's autocomplete widgets, which look the chosen values up to show them: a
    value that is no id at all (a tampered form) is left out of that look-up, so the form
    shows the field's error instead of failing with a 500."""

    def optgroups(self, name, value, attr=None):
        model = self.field.remote_field.model
        known = [item for item in value if is_id_of(model, item)]
        return super().optgroups(name, known, attr)


class KnownAutocompleteSelect(KnownValuesOnly, AutocompleteSelect):
    """The admin's autocomplete for a foreign key (`autocomplete_fields`)."""


class KnownAutocompleteSelectMultiple(KnownValuesOnly, AutocompleteSelectMultiple):
    """The admin's autocomplete for a many-to-many field (`autocomplete_fields`)."""


class Refused(Exception):
    """A service's refusal on its way from `run_service` to the view that shows it."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class ServiceAdminMixin:
    """Runs the services with the admin's change context and shows their refusals where the
    user acted, never as a 500: on the add or change form, with what they typed; as a
    message on the object's page for a delete, and on the list for a bulk action.

    Only what `run_service` raises is caught: Django's own checks keep their answers.
    """

    def run_service(self, request, service, /, **kwargs):
        try:
            return service(ctx=change_context(request), **kwargs)
        except REFUSALS as error:
            raise Refused(error) from error

    def message_refusal(self, request, refused: Refused) -> None:
        self.message_user(request, " ".join(refusal_messages(refused.error)), messages.ERROR)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except Refused as refused:
            # Nothing was saved (the service's transaction rolled back): the same request
            # again builds the form as Django does, and `get_form` adds the refusal to it.
            request.admin_refusal = refused.error
            return super()._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        refusal = getattr(request, "admin_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def full_clean(self):
                super().full_clean()
                show_on_form(self, refusal)

        RefusedForm.__name__ = form.__name__
        return RefusedForm

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except Refused as refused:
            self.message_refusal(request, refused)
            opts = self.opts
            name = f"admin:{opts.app_label}_{opts.model_name}_change"
            return redirect(
                reverse(name, args=[quote(object_id)], current_app=self.admin_site.name)
            )

    def response_action(self, request, queryset):
        try:
            return super().response_action(request, queryset)
        except Refused as refused:
            self.message_refusal(request, refused)
            return redirect(request.get_full_path())


class HistoryMixin:
    """The admin's "History" page of a resource, a tag, a user..., built from the catalog's
    own change rows (the same the API and the audit log serve), not from Django's LogEntry."""

    history_per_page = 50

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise PermissionDenied
        paginator = Paginator(history_of(obj.pk), self.history_per_page)
        page = paginator.get_page(request.GET.get("p"))
        page.object_list = list(page.object_list)
        hide_unseen_labels(resource_visibility(request.user), page.object_list)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "page": page,
            "changes": page.object_list,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        response = TemplateResponse(request, "admin/catalog/history.html", context)
        with shared_budget():  # for the line diffs of the whole page, rendered now
            return response.render()


class PolicyAdminMixin(ServiceAdminMixin, OwnLookupsOnlyMixin):
    """Admin permissions from the one policy instead of Django's per-model permission rows.

    Every staff user can look; what they may add, change and delete is the policy's answer
    for the model (editors: catalog resources, tags, collections; admins: everything). Lists
    accept only the filters their pages offer (`OwnLookupsOnlyMixin`); writes go through
    `run_service` (`ServiceAdminMixin`).
    """

    def response_action(self, request, queryset):
        # A tampered selection (an id that is no id of this model: "abc" for a UUID) is left
        # out instead of failing the query with a 500; none left is Django's "Items must be
        # selected" message.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        valid = [pk for pk in selected if is_id_of(self.model, pk)]
        if valid != selected:
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, valid)
        return super().response_action(request, queryset)

    def _may(self, request, action, obj=None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and may(user, action, obj or self.model)

    def has_module_permission(self, request):
        return self._may(request, Action.VIEW)

    def has_view_permission(self, request, obj=None):
        return self._may(request, Action.VIEW, obj)

    def has_add_permission(self, request, *args):
        return self._may(request, Action.ADD)

    def has_change_permission(self, request, obj=None):
        return self._may(request, Action.CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, Action.DELETE, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Who follows is each person's choice: only admins change it for others (followers
        # are still shown; one follows oneself from the catalog pages).
        follows = any(f.name == "subscribers" for f in self.model._meta.many_to_many)
        if follows and not may(request.user, Action.SUBSCRIBE_OTHERS, self.model):
            readonly.append("subscribers")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KnownAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KnownAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)
