"""Custom properties: fields a workspace defines for its resources, such as "Jira ticket"."""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from .resources import EntityType
from .titles import NameField

__all__ = ["CustomProperty", "CustomPropertyValue", "ValueType"]


class ValueType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes or no"
    DATE = "date", "Date"
    URL = "url", "Link"


def validate_entity_types(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(f"Enter a non-empty list of: {', '.join(EntityType.values)}.")
    unknown = [item for item in value if item not in EntityType.values]
    if unknown:
        raise ValidationError(
            f"Unknown kinds {unknown!r}; the catalog has {', '.join(EntityType.values)}."
        )


class CustomProperty(models.Model):
    """A field of the workspace's own, set on the resources of the kinds it applies to."""

    EDITABLE_FIELDS = ("name", "entity_types", "value_type")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = NameField(max_length=100, unique=True)
    entity_types = models.JSONField(
        validators=[validate_entity_types],
        help_text='The kinds of resource it applies to, e.g. ["event"].',
    )
    value_type = models.CharField(max_length=16, choices=ValueType.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "custom properties"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value_type__in=ValueType.values),
                name="custom_property_value_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A property's type, or the kinds it applies to, can't change under values that
        would no longer fit: those have to be cleared first."""
        super().clean()
        if self._state.adding:
            return
        old = CustomProperty.objects.filter(pk=self.pk).values("value_type", "entity_types")
        old = old.first()
        if old is None:
            return
        if old["value_type"] != self.value_type and self.values.exists():
            raise ValidationError(
                {"value_type": "Resources have values of this property; clear them first."}
            )
        dropped = set(old["entity_types"]) - set(self.entity_types or [])
        if dropped and self.values.filter(resource__entity_type__in=dropped).exists():
            raise ValidationError(
                {"entity_types": "Resources of a kind you removed have values; clear them first."}
            )

    def clean_value(self, value):
        """The value as stored, or ValidationError saying what this property takes."""
        kind = self.value_type
        if kind == ValueType.TEXT and isinstance(value, str):
            return value
        if (
            kind == ValueType.NUMBER
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            return value
        if kind == ValueType.BOOLEAN and isinstance(value, bool):
            return value
        if kind == ValueType.DATE and isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        if kind == ValueType.URL and isinstance(value, str):
            URLValidator(message="Enter a link such as https://example.com/ticket/1.")(value)
            return value
        expected = {
            ValueType.TEXT: "text",
            ValueType.NUMBER: "a number",
            ValueType.BOOLEAN: "true or false",
            ValueType.DATE: "a date such as 2026-01-31",
            ValueType.URL: "a link",
        }[kind]
        raise ValidationError(f"{self.name} takes {expected}, not {value!r}.")


class CustomPropertyValue(models.Model):
    """One resource's value of one custom property."""

    id = models.BigAutoField(primary_key=True)
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="custom_values"
    )
    property = models.ForeignKey(CustomProperty, on_delete=models.CASCADE, related_name="values")
    value = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "property"], name="custom_value_once_per_resource"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.property}: {self.value}"
