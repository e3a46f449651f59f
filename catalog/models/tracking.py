"""What trackers send: write keys, the received-event log, volumes, first/last seen, violations.

Hot counters never live on resource rows: a busy event would turn every batch into a lock on
the row stewards edit. Volumes, first/last seen and violations are separate tables that the
ingestion pipeline (`catalog.services.ingest`) updates with upserts, so concurrent senders add
to a count instead of overwriting it.
"""

import uuid

from django.conf import settings
from django.db import models

__all__ = [
    "DailyVolume",
    "IngestedMessage",
    "LoggedEvent",
    "ResourceSeen",
    "ValidationMode",
    "Violation",
    "ViolationDay",
    "ViolationKind",
    "WriteKey",
]


class ValidationMode(models.TextChoices):
    DISCOVER = "discover", "Discover: add unknown events and properties to the catalog"
    FLAG = "flag", "Flag: accept everything, record what breaks the plan"
    BLOCK = "block", "Block: accept only registered events with valid properties"


class WriteKeyQuerySet(models.QuerySet):
    def active(self) -> "WriteKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class WriteKey(models.Model):
    """A tracker's key for sending an integration's events; it can't read or change the catalog.

    Stored like API keys (see `catalog.services.writekeys`): a SHA-256 hash of the random
    secret, a short `prefix` to find the row, compared in constant time, shown once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        "catalog.Integration", on_delete=models.CASCADE, related_name="write_keys"
    )
    name = models.CharField(max_length=200, blank=True, help_text="Where the key is used.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = WriteKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "write key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.integration_id})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoggedEvent(models.Model):
    """One received call, kept `EVENT_LOG_RETENTION_DAYS` days for the event log read API.

    On PostgreSQL the table is partitioned by day of `received_at` (see migration 0010), so
    purging a day drops a partition instead of deleting rows one by one; its primary key is
    (id, received_at) there. The integration is a plain column without a foreign key
    constraint: checking it would cost every inserted row a lookup.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        "catalog.Integration",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # eventlog_integration_idx starts with it
        related_name="+",
    )
    received_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The sender's timestamp.")
    type = models.CharField(max_length=16, default="track", help_text="track, identify, page...")
    name = models.CharField(max_length=255, blank=True, help_text="The event's name.")
    user_id = models.CharField(max_length=255, blank=True)
    anonymous_id = models.CharField(
        max_length=255, blank=True, help_text="The anonymous or session id."
    )
    message_id = models.CharField(max_length=255, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    #: Which wire format it came in: segment, canvas (seed 000), prime (002), flameup (004).
    format = models.CharField(max_length=16)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["integration", "received_at"], name="eventlog_integration_idx"),
            models.Index(fields=["integration", "name", "received_at"], name="eventlog_name_idx"),
            # The log of all integrations at once, newest first.
            models.Index(fields=["received_at", "id"], name="eventlog_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.type} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class DailyVolume(models.Model):
    """How many times an event or property arrived on one day (UTC)."""

    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="daily_volumes"
    )
    day = models.DateField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="dailyvolume_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.count} on {self.day}"


class ResourceSeen(models.Model):
    """When an event or property first and last arrived."""

    resource = models.OneToOneField(
        "catalog.Resource", on_delete=models.CASCADE, primary_key=True, related_name="seen"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.first_seen_at:%Y-%m-%d} to {self.last_seen_at:%Y-%m-%d}"


class ViolationKind(models.TextChoices):
    UNKNOWN_EVENT = "unknown_event", "Unknown event"
    UNKNOWN_PROPERTY = "unknown_property", "Unknown property"
    MISSING_REQUIRED = "missing_required", "Missing required property"
    WRONG_TYPE = "wrong_type", "Wrong type"
    NOT_ALLOWED = "not_allowed", "Value not allowed"
    #: Discovery stopped at one of the integration's limits; the names it didn't add are
    #: recorded as unknown events and properties.
    DISCOVERY_LIMIT = "discovery_limit", "Discovery limit reached"
    #: The integration keeps INGEST_MAX_VIOLATIONS distinct violations; this one row counts
    #: the occurrences of all further ones.
    VIOLATION_LIMIT = "violation_limit", "Violation limit reached"


class Violation(models.Model):
    """Received events that broke the plan in one way, counted, with the latest example."""

    integration = models.ForeignKey(
        "catalog.Integration", on_delete=models.CASCADE, related_name="violations"
    )
    event = models.ForeignKey(
        "catalog.Resource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="violations",
        help_text="The catalog's event, when it is known.",
    )
    event_name = models.CharField(max_length=255)
    property_name = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=32, choices=ViolationKind.choices)
    count = models.BigIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    message = models.TextField(blank=True, help_text="What was wrong, the latest time.")
    example = models.JSONField(default=dict, blank=True, help_text="The latest offending event.")
    #: Set by `catalog.services.violations.violation_resolve`; ingestion clears both when the
    #: violation happens again (it reopens), so an open violation is one with no `resolved_at`.
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When a steward marked it resolved; empty while open."
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who marked it resolved.",
    )

    class Meta:
        ordering = ["-last_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "event_name", "property_name", "kind"],
                name="violation_unique_kind",
            )
        ]
        indexes = [
            models.Index(fields=["event", "-last_seen_at"], name="violation_event_idx"),
            # The violations page: open ones by event and kind, resolved ones newest first.
            models.Index(
                fields=["event_name", "kind", "property_name"],
                condition=models.Q(resolved_at__isnull=True),
                name="violation_open_idx",
            ),
            models.Index(
                fields=["-resolved_at"],
                condition=models.Q(resolved_at__isnull=False),
                name="violation_resolved_idx",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.event_name}.{self.property_name}" if self.property_name else self.event_name
        return f"{self.get_kind_display()}: {where}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class ViolationDay(models.Model):
    """How many times a violation happened on one day (UTC): its trend. Ingestion adds to it
    in the statement after the violation's own upsert, as it adds to `DailyVolume`."""

    violation = models.ForeignKey(
        Violation, on_delete=models.CASCADE, db_index=False, related_name="days"
    )
    day = models.DateField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of a violation's days (it starts with the violation).
            models.UniqueConstraint(fields=["violation", "day"], name="violationday_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.count} on {self.day}"


class IngestedMessage(models.Model):
    """A `messageId` received in the last 24 hours, so a retried batch isn't counted twice."""

    integration = models.ForeignKey(
        "catalog.Integration",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # ingestedmessage_unique starts with it
        related_name="+",
    )
    message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "message_id"], name="ingestedmessage_unique"
            )
        ]

    def __str__(self) -> str:
        return self.message_id
