"""Sources of events: the trackers and tools that send them."""

import uuid

from django.db import models

from .text import description_length
from .tracking import ValidationMode

__all__ = ["Integration", "IntegrationType"]


class IntegrationType(models.TextChoices):
    SEGMENT = "segment", "Segment"
    AMPLITUDE = "amplitude", "Amplitude"
    MIXPANEL = "mixpanel", "Mixpanel"
    RUDDERSTACK = "rudderstack", "RudderStack"
    SNOWPLOW = "snowplow", "Snowplow"
    CUSTOM = "custom", "Custom tracker"


class Integration(models.Model):
    """A source of events; every catalog resource belongs to exactly one integration."""

    EDITABLE_FIELDS = ("name", "type", "description", "validation_mode", "teams")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=32, choices=IntegrationType.choices)
    description = models.TextField(blank=True, validators=[description_length])
    validation_mode = models.CharField(
        max_length=16,
        choices=ValidationMode.choices,
        default=ValidationMode.DISCOVER,
        help_text="What ingestion does with events and properties the catalog doesn't know.",
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
