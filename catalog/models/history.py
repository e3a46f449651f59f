"""Who changed what, and who must hear of it: change sets, object changes, the email outbox.

Every write of the workspace goes through `catalog.services`, which records one `ChangeSet` per
call, one `ObjectChange` per object it touched (a resource, a tag, a user, a write key...), and
one `Notification` per recipient, all in the write's own transaction. Readers of history, the
audit log, undo and the email sender only read these rows.
"""

import uuid

from django.conf import settings
from django.db import models

from .resources import EntityType

__all__ = [
    "ChangeAction",
    "ChangeSet",
    "ChangeSource",
    "Notification",
    "ObjectChange",
    "ObjectType",
]


class ChangeSource(models.TextChoices):
    API = "api", "REST API"
    ADMIN = "admin", "Admin"
    WEB = "web", "Catalog pages"
    INGEST = "ingest", "Ingestion"
    COMMAND = "command", "Command"
    EMAIL = "email", "Email link"


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"


class ObjectType(models.TextChoices):
    """What a change is about: the catalog's resources (named as `EntityType` names them) and
    the workspace around them."""

    EVENT_CATEGORY = EntityType.EVENT_CATEGORY.value, "Event category"
    EVENT = EntityType.EVENT.value, "Event"
    EVENT_PROPERTY = EntityType.EVENT_PROPERTY.value, "Event property"
    INTEGRATION = "integration", "Integration"
    COLLECTION = "collection", "Collection"
    TAG = "tag", "Tag"
    TEAM = "team", "Team"
    USER_GROUP = "user_group", "Group"
    USER = "user", "User"
    CUSTOM_PROPERTY = "custom_property", "Custom property"
    API_KEY = "api_key", "API key"
    WRITE_KEY = "write_key", "Write key"


class ChangeSet(models.Model):
    """What one call changed, and who made it; the actor's name is kept as it was then."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed with the id below: the audit log's order.
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, choices=ChangeSource.choices)
    request_id = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_sets",
    )
    actor_name = models.CharField(
        max_length=255, help_text="The actor as it was named at the time of the change."
    )
    api_key = models.ForeignKey(
        "catalog.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key_name = models.CharField(max_length=255, blank=True)
    integration = models.ForeignKey(
        "catalog.Integration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The integration whose write key made the change (ingestion).",
    )
    reverts = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reverted_by",
        help_text="The change set this one undid.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The audit log's order, newest first: its first page reads 50 index entries
            # instead of sorting every set (also serves any filter on the time alone).
            models.Index(fields=["-created_at", "-id"], name="change_set_newest_idx"),
        ]
        verbose_name = "change set"

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}" if self.created_at else "now"
        return f"{self.actor_name} via {self.get_source_display()} at {when}"


class ObjectChange(models.Model):
    """One object's create, update or delete within a change set.

    `object_id` is a plain column, not a foreign key, and the kind and title are copied, so
    the history of a deleted object stays readable. `diff` maps each changed field to
    `[old, new]`; relations hold `{"id", "label"}` pairs. A delete also keeps the object's
    whole `state` (followers, custom values and relations included), so that undoing it can
    put the object back as it was. Secrets and password hashes are never recorded.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed with the kind below (`change_set_kind_idx`), not on its own.
    change_set = models.ForeignKey(
        ChangeSet, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    object_id = models.UUIDField()
    object_type = models.CharField(max_length=32, choices=ObjectType.choices)
    title = models.CharField(max_length=255)
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    diff = models.JSONField(default=dict, blank=True)
    state = models.JSONField(
        null=True,
        blank=True,
        help_text="What a delete removed, as it was: enough to restore it.",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_id", "-id"], name="change_object_idx"),
            models.Index(fields=["object_type", "-id"], name="change_object_type_idx"),
            # A set's changes, and whether it holds one of a kind a reader may see, from the
            # index alone: an editor's audit log counts its sets in 17 ms, not 118 ms
            # (bench/audit.py). It serves the foreign key's joins as its own index did.
            models.Index(fields=["change_set", "object_type"], name="change_set_kind_idx"),
        ]
        verbose_name = "change"

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_object_type_display()} {self.title!r}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """The outbox: one email to one recipient about one change set.

    Written in the change's transaction; the task queue only wakes the sender, this row is the
    truth (attempts, when to try next, the last error), so nothing is lost when a worker or
    the mail server is down.
    """

    Status = NotificationStatus

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (change_set, recipient) index starts with it.
    change_set = models.ForeignKey(
        ChangeSet, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    followed = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids of the resources the recipient follows that this change concerns; the "
        "email's unsubscribe link stops following these.",
    )
    shown = models.JSONField(
        null=True,
        blank=True,
        help_text="Ids of the resources the email may describe: for a viewer, those they may "
        "see (published, with their parents); null for editors and admins: all of them.",
    )
    digest = models.BooleanField(
        default=False, help_text="Sent in the recipient's daily digest, not on its own."
    )
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="Not sent before this time.")
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change_set", "recipient"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
        ]

    def __str__(self) -> str:
        return f"To {self.recipient_id} about {self.change_set_id} ({self.status})"
