"""What the catalog documents: event categories, events and event properties.

All three kinds live in one `Resource` table with an `entity_type` column, and each kind has a
proxy model whose manager filters on it. One table answers "all resources matching X" (search,
the generic resource query, history), `bulk_create` works for every kind, reads need no join,
and the unique (parent, title) rule is a plain database constraint. The columns only properties
have are nullable and guarded by check constraints.
"""

import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from .text import definition_length, description_length
from .titles import NameField

__all__ = [
    "EDITABLE_FIELDS",
    "M2M_FIELDS",
    "PROPERTY_ONLY_FIELDS",
    "Collection",
    "DataType",
    "EntityType",
    "Event",
    "EventCategory",
    "EventProperty",
    "Resource",
    "Tag",
]


class TitleField(NameField):
    """A title (normalised as every name is, see `catalog.models.titles`) with a byte-wise
    collation, so lists sort the same on SQLite and PostgreSQL.

    PostgreSQL's default collation follows the server's locale (and differs between servers);
    "C" and SQLite's BINARY both compare code points.
    """

    COLLATIONS = {"postgresql": "C", "sqlite": "BINARY"}

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        params["collation"] = self.db_collation or self.COLLATIONS.get(connection.vendor)
        return params


def validate_json_list(value) -> None:
    """Allowed values and examples are JSON lists, without NUL (PostgreSQL's jsonb refuses it)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise ValidationError('Enter a JSON list, such as ["a", "b"].')
    if value and "\\u0000" in json.dumps(value):
        raise ValidationError("Text can't contain NUL characters.")


class EntityType(models.TextChoices):
    EVENT_CATEGORY = "event_category", "Event category"
    EVENT = "event", "Event"
    EVENT_PROPERTY = "event_property", "Event property"


#: The kind a resource's parent must have; None means "no parent".
PARENT_TYPE = {
    EntityType.EVENT_CATEGORY: None,
    EntityType.EVENT: EntityType.EVENT_CATEGORY,
    EntityType.EVENT_PROPERTY: EntityType.EVENT,
}


class DataType(models.TextChoices):
    STRING = "string", "String"
    NUMBER = "number", "Number"
    INTEGER = "integer", "Integer"
    BOOLEAN = "boolean", "Boolean"
    OBJECT = "object", "Object"
    ARRAY = "array", "Array"
    DATETIME = "datetime", "Date and time"
    NULL = "null", "Null"


#: Many-to-many fields of every resource; a list given to a service replaces the whole set.
M2M_FIELDS = ("owners", "owners_groups", "teams", "tags", "collections", "subscribers")
#: Columns only event properties have.
PROPERTY_ONLY_FIELDS = ("data_type", "required", "allowed_values", "examples")
_COMMON_FIELDS = ("title", "description", "definition", "pii", "verified", "published")

#: What a caller may change on each kind, declared once: the services accept exactly these,
#: and the serializers, the admin forms and the change history read them from here. A
#: resource's `integration` is set when it is created and never changes.
EDITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    EntityType.EVENT_CATEGORY: (*_COMMON_FIELDS, *M2M_FIELDS),
    EntityType.EVENT: ("parent", *_COMMON_FIELDS, *M2M_FIELDS),
    EntityType.EVENT_PROPERTY: ("parent", *_COMMON_FIELDS, *PROPERTY_ONLY_FIELDS, *M2M_FIELDS),
}


class Tag(models.Model):
    """A free label on resources, such as "checkout" or "deprecated"."""

    EDITABLE_FIELDS = ("title", "description", "color")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = TitleField(max_length=100, unique=True)
    description = models.TextField(blank=True, validators=[description_length])
    color = models.CharField(
        max_length=7,
        default="#149634",
        validators=[
            RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Enter a color as #RRGGBB, such as #149634.")
        ],
        help_text="How the tag is shown, as #RRGGBB.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Collection(models.Model):
    """A curated group of resources, such as "Checkout funnel", documented and governed like
    a resource: a Markdown definition, flags, owners, teams, tags, followers, and parent or
    member-of collections."""

    EDITABLE_FIELDS = (
        "title",
        "description",
        "icon",
        "definition",
        "pii",
        "verified",
        "published",
        "integration",
        "parent",
        "teams",
        "owners",
        "owners_groups",
        "collections",
        "tags",
        "subscribers",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = TitleField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[description_length])
    icon = models.CharField(max_length=16, blank=True, help_text="An emoji, such as 🗂.")
    definition = models.TextField(
        blank=True, validators=[definition_length], help_text="Full documentation, in Markdown."
    )
    pii = models.BooleanField("PII", default=False)
    verified = models.BooleanField(default=False)
    published = models.BooleanField(default=True)
    integration = models.ForeignKey(
        "catalog.Integration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collections",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="The collection this one is part of.",
    )
    teams = models.ManyToManyField("catalog.Team", related_name="collections", blank=True)
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="owned_collections", blank=True
    )
    owners_groups = models.ManyToManyField(
        "catalog.UserGroup", related_name="owned_collections", blank=True
    )
    collections = models.ManyToManyField(
        "self", symmetrical=False, related_name="member_collections", blank=True
    )
    tags = models.ManyToManyField("catalog.Tag", related_name="collections", blank=True)
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="collection_subscriptions", blank=True
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        seen, parent_id = {self.pk}, self.parent_id
        while parent_id is not None:  # walk up: a loop would never end for any reader
            if parent_id in seen:
                message = (
                    "A collection can't be its own parent."
                    if parent_id == self.pk and self.parent_id == self.pk
                    else "That parent is inside this collection: it would make a loop."
                )
                raise ValidationError({"parent": message})
            seen.add(parent_id)
            parent_id = (
                Collection.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
            )


class ResourceQuerySet(models.QuerySet):
    def published(self) -> "ResourceQuerySet":
        return self.filter(published=True)

    def of_type(self, entity_type: str) -> "ResourceQuerySet":
        return self.filter(entity_type=entity_type)


class Resource(models.Model):
    """One documented thing of the catalog: an event category, an event or an event property."""

    #: Set on each proxy model; a proxy instance gets this kind when it is created.
    ENTITY_TYPE: str | None = None

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    title = TitleField(max_length=255)
    description = models.TextField(
        blank=True, validators=[description_length], help_text="A one-line summary."
    )
    definition = models.TextField(
        blank=True, validators=[definition_length], help_text="Full documentation, in Markdown."
    )
    pii = models.BooleanField(
        "PII", default=False, help_text="Holds personally identifiable information."
    )
    verified = models.BooleanField(default=False, help_text="Checked by a data steward.")
    published = models.BooleanField(default=False, help_text="Visible to viewers.")
    integration = models.ForeignKey(
        "catalog.Integration", on_delete=models.PROTECT, related_name="resources"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        help_text="An event's category, or a property's event.",
    )
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="owned_resources", blank=True
    )
    owners_groups = models.ManyToManyField(
        "catalog.UserGroup",
        related_name="owned_resources",
        blank=True,
        verbose_name="owner groups",
        help_text="Groups whose members are told of changes as owners are.",
    )
    teams = models.ManyToManyField("catalog.Team", related_name="resources", blank=True)
    tags = models.ManyToManyField(Tag, related_name="resources", blank=True)
    collections = models.ManyToManyField(Collection, related_name="resources", blank=True)
    subscribers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="subscriptions",
        blank=True,
        help_text="Emailed whenever the resource changes.",
    )

    # Event properties only.
    # NULL, not "", marks "not a property": the check constraint below relies on it.
    data_type = models.CharField(  # noqa: DJ001
        max_length=16, choices=DataType.choices, null=True, blank=True
    )
    required = models.BooleanField(null=True, blank=True)
    allowed_values = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_json_list],
        help_text="The only values the property may take (a JSON list).",
    )
    examples = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_json_list],
        help_text="Example values (a JSON list).",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            # Lists of one kind, in their default order (title, id), and filters on the kind.
            models.Index(fields=["entity_type", "title", "id"], name="resource_type_title_idx"),
            # Counting one kind (every list's `count`) scans this narrow index only.
            models.Index(fields=["entity_type"], name="resource_entity_type_idx"),
            # An integration's events or properties counted (the integrations pages): 1,720
            # -> 123 ms for 3 integrations of 1,100,000 resources, where the integration's
            # own index had to read every row to check its kind (bench/pages.py).
            models.Index(
                fields=["integration", "entity_type"], name="resource_integration_type_idx"
            ),
            # The resource query across kinds, in the same order.
            models.Index(fields=["title", "id"], name="resource_title_id_idx"),
            models.Index(fields=["updated_at"], name="resource_updated_at_idx"),
            # Lists of one kind by title as people read it: case-insensitive, then
            # byte-wise, then by id (`catalog.selectors.title_order`).
            models.Index(
                models.F("entity_type"),
                Lower("title"),
                models.F("title"),
                models.F("id"),
                name="resource_type_lower_title_idx",
            ),
            # What holds personal data, the filter stewards use most: a few percent of rows,
            # which the kind's index would otherwise read all of (count and page) to find.
            models.Index(
                fields=["entity_type", "title", "id"],
                condition=Q(pii=True),
                name="resource_pii_title_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(entity_type__in=EntityType.values), name="resource_entity_type_valid"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="resource_title_not_empty"),
            models.CheckConstraint(
                condition=(
                    Q(entity_type=EntityType.EVENT_CATEGORY, parent__isnull=True)
                    | (~Q(entity_type=EntityType.EVENT_CATEGORY) & Q(parent__isnull=False))
                ),
                name="resource_parent_matches_kind",
                violation_error_message="Categories have no parent; events and properties do.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        entity_type=EntityType.EVENT_PROPERTY,
                        data_type__in=DataType.values,
                        required__isnull=False,
                    )
                    | (
                        ~Q(entity_type=EntityType.EVENT_PROPERTY)
                        & Q(
                            data_type__isnull=True,
                            required__isnull=True,
                            allowed_values__isnull=True,
                            examples__isnull=True,
                        )
                    )
                ),
                name="resource_property_columns",
                violation_error_message=(
                    "Only event properties have a data type, required flag, allowed values "
                    "and examples; every property has a data type and a required flag."
                ),
            ),
            models.UniqueConstraint(
                fields=["parent", "title"],
                name="resource_unique_title_per_parent",
                violation_error_message="The parent already has a child with this title.",
            ),
            models.UniqueConstraint(
                fields=["integration", "title"],
                condition=Q(parent__isnull=True),
                name="resource_unique_category_title",
                violation_error_message="The integration already has a category with this title.",
            ),
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read __dict__, not the attributes: a deferred field would cost a query per row.
        values = self.__dict__
        if self.ENTITY_TYPE and not values.get("entity_type"):
            self.entity_type = self.ENTITY_TYPE
        if values.get("entity_type") == EntityType.EVENT_PROPERTY:
            if "data_type" in values and values["data_type"] is None:
                self.data_type = DataType.STRING
            if "required" in values and values["required"] is None:
                self.required = False

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The resource's catalog page (the admin's "View on site" links to it)."""
        return reverse("web:resource", args=[self.pk])

    def clean(self) -> None:
        """Check what a row alone can't: the parent's kind and integration."""
        super().clean()
        expected = PARENT_TYPE.get(self.entity_type)
        # The descriptor, not parent_id: an admin inline's parent may not be saved yet.
        parent = self.parent
        if parent is None:
            if expected is not None:
                raise ValidationError(
                    {"parent": f"An {self.get_entity_type_display().lower()} needs a parent."}
                )
            return
        if expected is None:
            raise ValidationError({"parent": "An event category has no parent."})
        if parent.entity_type != expected:
            raise ValidationError(
                {"parent": f"The parent must be an {EntityType(expected).label.lower()}."}
            )
        if self.integration_id and parent.integration_id != self.integration_id:
            raise ValidationError({"parent": "The parent belongs to another integration."})

    def ancestors(self, *, loaded_only: bool = False) -> list["Resource"]:
        """The parent, its parent..., nearest first: the one walk up the tree that labels,
        breadcrumbs, visibility and notifications all use. Rows loaded with this one
        (`select_related("parent", "parent__parent")`) cost nothing; `loaded_only` stops
        before the first that would cost a query."""
        found, node = [], self
        while node.parent_id and (not loaded_only or Resource.parent.is_cached(node)):
            node = node.parent
            found.append(node)
        return found

    def ancestor_ids(self) -> list:
        """The ids of every ancestor, without a query: those loaded, and the parent id of
        the last of them (the tree is at most three levels deep)."""
        loaded = self.ancestors(loaded_only=True)
        last = loaded[-1] if loaded else self
        return [node.pk for node in loaded] + ([last.parent_id] if last.parent_id else [])


def relation_columns(field: str) -> tuple[type[models.Model], str, str]:
    """The through model of a resource's M2M `field`, and its resource and target columns.

    Readers that only need ids (API pages, the resource query) go straight to this table.
    """
    m2m = Resource._meta.get_field(field)
    return m2m.remote_field.through, m2m.m2m_field_name(), m2m.m2m_reverse_field_name()


class KindManager(models.Manager.from_queryset(ResourceQuerySet)):
    """The manager of a proxy model: only the resources of its kind."""

    def get_queryset(self) -> ResourceQuerySet:
        return super().get_queryset().filter(entity_type=self.model.ENTITY_TYPE)


class EventCategory(Resource):
    """Groups events; the top of the hierarchy, one per title in an integration."""

    ENTITY_TYPE = EntityType.EVENT_CATEGORY
    objects = KindManager()

    class Meta:
        proxy = True
        verbose_name_plural = "event categories"


class Event(Resource):
    """A tracked event, such as "Order Completed"; its parent is a category."""

    ENTITY_TYPE = EntityType.EVENT
    objects = KindManager()

    class Meta:
        proxy = True


class EventProperty(Resource):
    """A property sent with an event, such as `revenue`; its parent is an event."""

    ENTITY_TYPE = EntityType.EVENT_PROPERTY
    objects = KindManager()

    class Meta:
        proxy = True
        verbose_name_plural = "event properties"
