"""Tracking in the admin: integrations' write keys, the violations ingestion counts, and the
plan imports that run in the background."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse

from catalog.models import PlanImport, Violation, WriteKey
from catalog.policy import Action
from catalog.services import writekeys

from .base import HistoryMixin, PolicyAdminMixin

#: Said with a new write key's secret, the only time it is shown.
WRITE_KEY_SHOWN_ONCE = "Copy it now: it won't be shown again."


@admin.register(WriteKey)
class WriteKeyAdmin(HistoryMixin, PolicyAdminMixin, admin.ModelAdmin):
    """Integrations' write keys, for admins only (the policy's default for them).

    "Add" creates a key through the service and shows its secret once, on the page that
    answers the form; the action "Revoke selected write keys" revokes. Nothing else is editable, and
    revoked keys stay listed.
    """

    list_display = [
        "prefix",
        "integration",
        "name",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "integration"]
    search_fields = ["prefix", "name", "integration__name"]
    list_select_related = ["integration", "created_by"]
    autocomplete_fields = ["integration"]
    actions = ["revoke"]
    #: Shown on a key's page, all read-only.
    record_fields = [
        "integration",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]

    def get_fields(self, request, obj=None):
        return ["integration", "name"] if obj is None else self.record_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.record_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record stays

    def get_actions(self, request):
        # Django offers actions to those who may change or delete; revoking is neither.
        if not self._may(request, Action.DELETE):
            return {}
        return {"revoke": (WriteKeyAdmin.revoke, "revoke", WriteKeyAdmin.revoke.short_description)}

    def save_model(self, request, obj, form, change):
        key, secret = self.run_service(
            request,
            writekeys.write_key_create,
            integration=form.cleaned_data["integration"],
            name=form.cleaned_data["name"],
        )
        # Django logs the addition with `obj`: make it the row the service created.
        for field in ("id", "prefix", "created_at", "created_by_id"):
            setattr(obj, field, getattr(key, field))
        obj._state.adding = False
        obj.new_secret = secret  # for `response_add`, in memory only

    def save_related(self, request, form, formsets, change):
        """Write keys have no M2M fields."""

    def response_add(self, request, obj, post_url_continue=None):
        """The new key, on the page that answers the form: the one place its secret is shown.
        Not in a message (Django keeps those in a cookie) nor after a redirect (the secret
        would have to be kept somewhere until then)."""
        keys = reverse("admin:catalog_writekey_changelist")
        add = reverse("admin:catalog_writekey_add")
        context = {
            **self.admin_site.each_context(request),
            "title": "Write key created",
            "subtitle": None,
            "opts": self.opts,
            "key": obj,
            "secret": obj.new_secret,
            "shown_once": WRITE_KEY_SHOWN_ONCE,
            "keys_url": f"{keys}?integration__id__exact={obj.integration_id}",
            "add_url": f"{add}?integration={obj.integration_id}",
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalog/writekey_created.html", context)

    @admin.action(description="Revoke selected write keys")
    def revoke(self, request, queryset):
        revoked = already = 0
        for key in queryset:
            if key.is_revoked:
                already += 1
                continue
            self.run_service(request, writekeys.write_key_revoke, key=key)
            revoked += 1
        message = f"{revoked} write key{'s' if revoked != 1 else ''} revoked."
        if already:
            message += f" {already} {'was' if already == 1 else 'were'} revoked already."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Violation)
class ViolationAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """What received events broke in the plan, as the ingestion pipeline counts it: read by
    editors and admins; admins delete the ones that are resolved (the pipeline starts a new
    count if they happen again). Nobody adds or changes them here."""

    list_display = [
        "event_name",
        "property_name",
        "kind",
        "count",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolved_by",
    ]
    list_select_related = ["resolved_by"]
    list_filter = ["integration", "kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_name", "property_name"]
    ordering = ["-last_seen_at", "id"]
    fields = [
        "integration",
        "event",
        "event_name",
        "property_name",
        "kind",
        "count",
        "first_seen_at",
        "last_seen_at",
        "message",
        "example",
        "resolved_at",
        "resolved_by",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # resolving is on the violations page (catalog.services.violations)

    def has_delete_permission(self, request, obj=None):
        # Admins clear resolved violations (the policy's rule); no history, no emails: it
        # is housekeeping of tracking data, not a change of the catalog.
        return self._may(request, Action.DELETE, obj)


@admin.register(PlanImport)
class PlanImportAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Plan files imported in the background (`POST /api/v1/plan/import` past
    PLAN_IMPORT_SYNC_MAX_BYTES): admins see how each went; one still `running` long after it
    started lost its process and can be sent again. Nobody writes them here."""

    list_display = ["created_at", "requested_by", "format", "mode", "size", "status", "finished_at"]
    list_filter = ["status", "format"]
    ordering = ["-created_at", "id"]
    fields = [
        "requested_by",
        "source",
        "request_id",
        "format",
        "mode",
        "integration",
        "size",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "result",
        "problems",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("file").select_related("requested_by")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
