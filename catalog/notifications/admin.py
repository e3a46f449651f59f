"""The email outbox in the admin: what was sent, what waits for a retry, what failed.

Rows are read-only here (the sender owns them); admins may put rows back in the queue with
the "Re-send selected" action. Only admins see the outbox, as `catalog.policy` decides.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils.text import Truncator

from catalog.admin.lookups import OwnLookupsOnlyMixin
from catalog.models import Notification, ObjectChange
from catalog.policy import Action, may

from .delivery import requeue
from .emails import SUBJECT_PREFIX, kind_label, one_line, phrase
from .tasks import deliver_notifications


class NotificationAdmin(OwnLookupsOnlyMixin, admin.ModelAdmin):
    list_display = [
        "recipient",
        "summary",
        "status",
        "digest",
        "attempts",
        "next_attempt_at",
        "short_error",
        "sent_at",
    ]
    list_filter = ["status", "digest"]
    list_select_related = ["recipient", "change_set"]
    search_fields = ["recipient__username", "recipient__email", "change_set__actor_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    fields = [
        "recipient",
        "subject",
        "change_set",
        "followed",
        "digest",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        changes = ObjectChange.objects.filter(change_set=OuterRef("change_set"))
        first = changes.order_by("id")
        count = changes.order_by().values("change_set").annotate(n=Count("id")).values("n")
        return (
            super()
            .get_queryset(request)
            .annotate(
                first_title=Subquery(first.values("title")[:1]),
                first_kind=Subquery(first.values("object_type")[:1]),
                change_count=Subquery(count),
            )
        )

    # Who may do what: the policy, not per-model permission rows.
    def has_module_permission(self, request):
        return may(request.user, Action.VIEW, Notification)

    def has_view_permission(self, request, obj=None):
        return may(request.user, Action.VIEW, Notification)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return may(request.user, Action.CHANGE, Notification)

    @admin.display(description="about")
    def summary(self, obj):
        actor = obj.change_set.actor_name
        if not getattr(obj, "first_title", None):
            return f"{actor}: no resource changes"
        what = f'{kind_label(obj.first_kind)} "{one_line(obj.first_title)}"'
        if obj.change_count > 1:
            what += f" and {obj.change_count - 1} more"
        return f"{actor}: {what}"

    @admin.display(description="last error")
    def short_error(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.display(description="subject")
    def subject(self, obj):
        return f"{SUBJECT_PREFIX} {phrase(list(obj.change_set.changes.order_by('id')))}"

    @admin.action(description="Re-send selected", permissions=["resend"])
    def resend(self, request, queryset):
        """Back to pending as if never tried; immediate ones are sent now, digests next time."""
        rows = Notification.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
        change_sets = {
            str(pk) for pk in rows.filter(digest=False).values_list("change_set_id", flat=True)
        }
        count = requeue(rows)
        for change_set_id in sorted(change_sets):
            transaction.on_commit(
                lambda pk=change_set_id: deliver_notifications.enqueue(change_set_id=pk)
            )
        self.message_user(
            request,
            f"{count} notification{'s' if count != 1 else ''} queued again; digest rows go out "
            "with the next daily digest.",
            messages.SUCCESS,
        )


admin.site.register(Notification, NotificationAdmin)
