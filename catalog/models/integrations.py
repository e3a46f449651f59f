"""Sources of events: the trackers and tools that send them."""

import uuid

from django.core.validators import MaxValueValidator
from django.db import models

from .text import description_length
from .titles import NameField
from .tracking import ValidationMode

__all__ = ["DISCOVERY_LIMITS", "Integration", "IntegrationType"]

#: What discovery adds to the catalog at most, unless an integration says otherwise.
DISCOVERY_LIMITS = {
    "max_new_events_per_day": 1_000,
    "max_new_properties_per_day": 10_000,
    "max_properties_per_event": 1_000,
}


class IntegrationType(models.TextChoices):
    SEGMENT = "segment", "Segment"
    AMPLITUDE = "amplitude", "Amplitude"
    MIXPANEL = "mixpanel", "Mixpanel"
    RUDDERSTACK = "rudderstack", "RudderStack"
    SNOWPLOW = "snowplow", "Snowplow"
    CUSTOM = "custom", "Custom tracker"


class Integration(models.Model):
    """A source of events; every catalog resource belongs to exactly one integration."""

    EDITABLE_FIELDS = (
        "name",
        "type",
        "description",
        "validation_mode",
        "max_new_events_per_day",
        "max_new_properties_per_day",
        "max_properties_per_event",
        "teams",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = NameField(max_length=200, unique=True)
    type = models.CharField(max_length=32, choices=IntegrationType.choices)
    description = models.TextField(blank=True, validators=[description_length])
    validation_mode = models.CharField(
        max_length=16,
        choices=ValidationMode.choices,
        default=ValidationMode.DISCOVER,
        help_text="What ingestion does with events and properties the catalog doesn't know.",
    )
    # Discovery's limits: far above what an app's tracking plan needs, far below what a leaked
    # write key could make of the catalog (names past a limit are recorded as violations).
    max_new_events_per_day = models.PositiveIntegerField(
        "new events a day",
        default=DISCOVERY_LIMITS["max_new_events_per_day"],
        validators=[MaxValueValidator(1_000_000)],
        help_text="In discover mode, at most this many new events are added a day (UTC); "
        "further unknown events are recorded as violations. 0 adds none.",
    )
    max_new_properties_per_day = models.PositiveIntegerField(
        "new properties a day",
        default=DISCOVERY_LIMITS["max_new_properties_per_day"],
        validators=[MaxValueValidator(10_000_000)],
        help_text="In discover mode, at most this many new properties are added a day (UTC); "
        "further unknown properties are recorded as violations. 0 adds none.",
    )
    max_properties_per_event = models.PositiveIntegerField(
        "properties per event",
        default=DISCOVERY_LIMITS["max_properties_per_event"],
        validators=[MaxValueValidator(100_000)],
        help_text="Discovery adds no property to an event that has this many.",
    )
    teams = models.ManyToManyField("catalog.Team", related_name="integrations", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=IntegrationType.values),
                name="integration_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(validation_mode__in=ValidationMode.values),
                name="integration_validation_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
