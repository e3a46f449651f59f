"""Request and response shapes of the API, as the seed document describes them."""

from django.db.models import Manager
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    ApiKey,
    Collection,
    CustomProperty,
    DataType,
    EntityType,
    Integration,
    ObjectChange,
    Resource,
    Role,
    Tag,
    Team,
    User,
    UserGroup,
    ValueType,
    Violation,
    WriteKey,
)
from catalog.policy import may_see_email
from catalog.selectors import TRACKED_TYPES, attach_relation_ids, attach_tracking


class StrictFieldsMixin:
    """Refuse fields the endpoint doesn't know, so a typo is a 400, not a silent no-op.

    Read-only fields (`id`, `created_at`, ...) are accepted and ignored, so a client may send
    back what it read.
    """

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**error.detail, **unknown}) from error
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def _ids(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.UUIDField(), **kwargs
    )


def resource_fields(entity_type: str) -> list[str]:
    """A kind's fields: the read-only record, then what the model lets a client change
    (`EDITABLE_FIELDS`)."""
    return [
        "id",
        "created_at",
        "updated_at",
        "entity_type",
        "integration",
        *EDITABLE_FIELDS[entity_type],
    ]


#: Formats timestamps in to_representation; one instance, not a field lookup per row. Its
#: zone is fixed (the API never activates another), as looking the current one up twice a
#: row was a tenth of a 50-row list.
TIMESTAMP = serializers.DateTimeField(default_timezone=timezone.get_default_timezone())


class ResourceListSerializer(serializers.ListSerializer):
    """Fetches the M2M ids of a whole page in one query before serializing it."""

    def to_representation(self, data):
        items = list(data.all() if isinstance(data, Manager) else data)
        attach_relation_ids(items)
        attach_tracking(items)
        return [self.child.to_representation(item) for item in items]


class ResourceSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Any catalog resource. Property-only fields appear on event properties only."""

    entity_type = serializers.ChoiceField(choices=EntityType.choices, read_only=True)
    integration = _ids(Integration.objects.all(), help_text="The UUID of the integration.")
    parent = _ids(
        Resource.objects.all(),
        allow_null=True,
        required=False,
        help_text="An event's category, or a property's event.",
    )
    owners = _ids(User.objects.all(), many=True, required=False, help_text="Owner user ids.")
    teams = _ids(Team.objects.all(), many=True, required=False, help_text="Team ids.")
    tags = _ids(Tag.objects.all(), many=True, required=False, help_text="Tag ids.")
    collections = _ids(
        Collection.objects.all(), many=True, required=False, help_text="Collection ids."
    )
    subscribers = _ids(
        User.objects.all(),
        many=True,
        required=False,
        help_text="User ids notified of every change.",
    )
    owners_groups = _ids(
        UserGroup.objects.all(),
        many=True,
        required=False,
        help_text="Group ids; the members are told of changes as owners are.",
    )

    class Meta:
        model = Resource
        fields = resource_fields(EntityType.EVENT)
        read_only_fields = ["id", "created_at", "updated_at", "entity_type"]
        list_serializer_class = ResourceListSerializer
        # Unique titles and parent rules are checked by the service (one place for every
        # write path); DRF's own unique validators would also make optional fields required.
        validators = []

    def to_representation(self, instance):
        # Written out by hand: this runs for every row of every list, and the generic
        # field-by-field path costs several times more.
        relation_ids = getattr(instance, "relation_ids", None)
        if relation_ids is None:
            relation_ids = attach_relation_ids([instance])[0].relation_ids
        data = {
            "id": str(instance.pk),
            "created_at": TIMESTAMP.to_representation(instance.created_at),
            "updated_at": TIMESTAMP.to_representation(instance.updated_at),
            "entity_type": instance.entity_type,
            "title": instance.title,
            "description": instance.description,
            "definition": instance.definition,
            "pii": instance.pii,
            "verified": instance.verified,
            "published": instance.published,
            "integration": str(instance.integration_id),
            "parent": str(instance.parent_id) if instance.parent_id else None,
        }
        for field in M2M_FIELDS:
            data[field] = [str(pk) for pk in relation_ids[field]]
        if instance.entity_type == EntityType.EVENT_PROPERTY:
            data.update(
                data_type=instance.data_type,
                required=instance.required,
                allowed_values=instance.allowed_values,
                examples=instance.examples,
            )
        if instance.entity_type in TRACKED_TYPES:
            tracking = getattr(instance, "tracking", None)
            if tracking is None:
                tracking = attach_tracking([instance])[0].tracking
            data.update(
                first_seen_at=TIMESTAMP.to_representation(tracking.first_seen_at)
                if tracking.first_seen_at
                else None,
                last_seen_at=TIMESTAMP.to_representation(tracking.last_seen_at)
                if tracking.last_seen_at
                else None,
                volume_7d=tracking.volume_7d,
                volume_30d=tracking.volume_30d,
            )
        return data


class EventCategorySerializer(ResourceSerializer):
    """Categories have no parent; `integration` is required on create."""

    class Meta(ResourceSerializer.Meta):
        fields = resource_fields(EntityType.EVENT_CATEGORY)


#: What arrives of an event or property, as the ingestion pipeline counts it (read-only).
TRACKING_FIELDS = ["first_seen_at", "last_seen_at", "volume_7d", "volume_30d"]


class EventSerializer(ResourceSerializer):
    """Events: `title` and `parent` (a category) are required on create; `integration` is
    taken from the category when left out."""

    first_seen_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it first arrived; null if never."
    )
    last_seen_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it last arrived; null if never."
    )
    volume_7d = serializers.IntegerField(
        read_only=True, help_text="How many times it arrived today and the 6 days before (UTC)."
    )
    volume_30d = serializers.IntegerField(
        read_only=True, help_text="How many times it arrived today and the 29 days before (UTC)."
    )

    class Meta(ResourceSerializer.Meta):
        fields = [*resource_fields(EntityType.EVENT), *TRACKING_FIELDS]

    integration = _ids(
        Integration.objects.all(),
        required=False,
        allow_null=True,
        help_text="The UUID of the integration (defaults to the parent's).",
    )
    parent = _ids(Resource.objects.all(), help_text="The UUID of the parent.")


class EventPropertySerializer(EventSerializer):
    """Event properties add a data type, a required flag, allowed values and examples."""

    data_type = serializers.ChoiceField(choices=DataType.choices, required=False)
    required = serializers.BooleanField(required=False)
    allowed_values = serializers.ListField(
        child=serializers.JSONField(), allow_null=True, required=False
    )
    examples = serializers.ListField(child=serializers.JSONField(), allow_null=True, required=False)

    class Meta(EventSerializer.Meta):
        fields = [*resource_fields(EntityType.EVENT_PROPERTY), *TRACKING_FIELDS]


class EventPropertyCreateSerializer(EventPropertySerializer):
    """`POST /event/property` as existing clients send it: `type`, `is_required` and `enum`
    stand for `data_type`, `required` and `allowed_values`."""

    #: The client's name -> the catalog's.
    ALIASES = {"type": "data_type", "is_required": "required", "enum": "allowed_values"}

    type = serializers.ChoiceField(
        choices=DataType.choices, write_only=True, required=False, help_text="= data_type"
    )
    is_required = serializers.BooleanField(write_only=True, required=False, help_text="= required")
    enum = serializers.ListField(
        child=serializers.JSONField(),
        allow_null=True,
        write_only=True,
        required=False,
        help_text="= allowed_values: null or a list.",
    )

    class Meta(EventPropertySerializer.Meta):
        fields = [*EventPropertySerializer.Meta.fields, "type", "is_required", "enum"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for alias, name in self.ALIASES.items():
            if alias in attrs:
                value = attrs.pop(alias)
                attrs.setdefault(name, value)
        return attrs


#: The serializer of each kind, for routes that serve every kind.
SERIALIZER_BY_KIND = {
    EntityType.EVENT_CATEGORY: EventCategorySerializer,
    EntityType.EVENT: EventSerializer,
    EntityType.EVENT_PROPERTY: EventPropertySerializer,
}


@extend_schema_field(EventPropertySerializer)
class AnyResourceSerializer(ResourceSerializer):
    """A resource of any kind, as the generic resource query returns it."""


class TagSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A tag: its label is `name` (`title`, its older name, is accepted and returned too)."""

    name = serializers.CharField(source="title", max_length=100, help_text="The label.")
    title = serializers.CharField(read_only=True, help_text="Same as `name` (older clients).")

    class Meta:
        model = Tag
        fields = ["id", "name", "title", "description", "color", "created_at", "updated_at"]

    def to_internal_value(self, data):
        if isinstance(data, dict) and "title" in data and "name" not in data:
            data = {("name" if key == "title" else key): value for key, value in data.items()}
        return super().to_internal_value(data)


#: A collection's many-to-many fields, prefetched by its list.
COLLECTION_M2M = tuple(field.name for field in Collection._meta.many_to_many)


class CollectionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A collection with the body existing clients send: icon, definition, flags, owners,
    groups, teams, tags, followers, and the collections it is part of."""

    entity_type = serializers.SerializerMethodField(help_text="Always `collection`.")
    integration = _ids(Integration.objects.all(), required=False, allow_null=True)
    parent = _ids(Collection.objects.all(), required=False, allow_null=True)
    teams = _ids(Team.objects.all(), many=True, required=False)
    owners = _ids(User.objects.all(), many=True, required=False)
    owners_groups = _ids(UserGroup.objects.all(), many=True, required=False)
    collections = _ids(Collection.objects.all(), many=True, required=False)
    tags = _ids(Tag.objects.all(), many=True, required=False)
    subscribers = _ids(User.objects.all(), many=True, required=False)

    class Meta:
        model = Collection
        fields = ["id", "entity_type", *Collection.EDITABLE_FIELDS, "created_at", "updated_at"]

    def get_entity_type(self, collection) -> str:
        return "collection"


class TeamSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A team: a named set of users that can own resources and integrations."""

    members = _ids(User.objects.all(), many=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "members", "created_at", "updated_at"]


#: The value types' names that clients send (Secoda's examples send `string`), any case, and
#: the one each means here: only names whose values are the same set as ours.
VALUE_TYPE_NAMES = {
    **dict.fromkeys(("text", "string", "str"), ValueType.TEXT),
    **dict.fromkeys(("number", "numeric", "float", "double", "decimal"), ValueType.NUMBER),
    **dict.fromkeys(("boolean", "bool"), ValueType.BOOLEAN),
    "date": ValueType.DATE,
    **dict.fromkeys(("url", "link"), ValueType.URL),
}
#: Names that look like ours but hold other values, and what to send instead.
NOT_OUR_VALUE_TYPES = {
    **dict.fromkeys(
        ("integer", "int"), "a number property also takes fractions such as 2.5; send `number`"
    ),
    **dict.fromkeys(
        ("datetime", "timestamp"),
        "a date property holds a day (2026-01-31), no time; send `date` or `text`",
    ),
}


def _accepted_value_types() -> str:
    names = {}
    for name, value_type in VALUE_TYPE_NAMES.items():
        names.setdefault(value_type, []).append(name)
    return "; ".join(", ".join(group) for group in names.values())


class ValueTypeField(serializers.ChoiceField):
    """A value type under any of its names; answered as `text`, `number`, `boolean`, `date`
    or `url` (the response to a create or update says the name the client sent). A choice
    field so that the schema's enum says what each name means."""

    def __init__(self, **kwargs):
        choices = [(name, value_type.label) for name, value_type in VALUE_TYPE_NAMES.items()]
        super().__init__(choices=choices, **kwargs)

    def to_internal_value(self, data):
        name = data.strip().lower() if isinstance(data, str) else None
        if name in VALUE_TYPE_NAMES:
            return VALUE_TYPE_NAMES[name]
        reason = f" ({NOT_OUR_VALUE_TYPES[name]})" if name in NOT_OUR_VALUE_TYPES else ""
        shown = data if isinstance(data, str) and len(data) <= 40 else "this"
        raise serializers.ValidationError(
            f"{shown!r} is not a value type here{reason}. Accepted: {_accepted_value_types()}."
        )

    def to_representation(self, value):
        return value


class CustomPropertySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A workspace's own field: its name, the kinds of resource it applies to, its type."""

    entity_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EntityType.choices),
        allow_empty=False,
        help_text='e.g. ["event", "event_property"]',
    )
    value_type = ValueTypeField(
        help_text=(
            "`text` (or `string`, `str`), `number` (or `numeric`, `float`, `double`, "
            "`decimal`), `boolean` (or `bool`), `date` or `url` (or `link`), any case."
        )
    )

    class Meta:
        model = CustomProperty
        fields = ["id", "name", "entity_types", "value_type", "created_at", "updated_at"]

    def to_representation(self, instance):
        """A client that created or changed the type under its own name reads that name back
        (its next read says ours): it checks the answer against what it sent."""
        data = super().to_representation(instance)
        initial = getattr(self, "initial_data", None)
        sent = initial.get("value_type") if hasattr(initial, "get") else None
        if isinstance(sent, str) and VALUE_TYPE_NAMES.get(sent.strip().lower()) == data.get(
            "value_type"
        ):
            data["value_type"] = sent
        return data


class CustomValueSerializer(serializers.Serializer):
    """A custom property's value on one resource."""

    value = serializers.JSONField(
        allow_null=True, help_text="Of the property's type; null clears it."
    )


class UserGroupSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A group of users: its name, description, icon and members; groups can own resources."""

    users = _ids(User.objects.all(), many=True, required=False, help_text="Member user ids.")

    class Meta:
        model = UserGroup
        fields = ["id", "name", "description", "icon", "users", "created_at", "updated_at"]


class IntegrationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """An integration: a source of tracked events (Segment, Amplitude, a custom tracker...),
    how ingestion treats events the catalog doesn't know, and its daily discovery limits."""

    teams = _ids(Team.objects.all(), many=True, required=False)
    credentials = serializers.DictField(
        write_only=True,
        required=False,
        help_text="Accepted empty for existing clients: Event Catalog connects to no source.",
    )

    class Meta:
        model = Integration
        fields = ["id", *Integration.EDITABLE_FIELDS, "credentials", "created_at", "updated_at"]

    def validate_credentials(self, value: dict) -> dict:
        if value:
            raise serializers.ValidationError(
                "Event Catalog connects to no source with credentials: trackers send events "
                "to it instead. Leave `credentials` out or send {}."
            )
        return value

    def validate(self, attrs):
        attrs.pop("credentials", None)
        return attrs


#: What every user answer has; the profile adds the user's own settings.
USER_FIELDS = ["id", "username", "email", "first_name", "last_name", "role", "is_active", "teams"]


class UserSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A user as others see them (the email address only for editors, admins and oneself),
    and as admins create and change them: name, email, role and teams.

    A new user's username is their email address; `role` takes Admin, Editor or Viewer in any
    case.
    """

    teams = _ids(Team.objects.all(), many=True, required=False, help_text="Team ids.")
    email = serializers.EmailField(help_text="Null unless you may see it.")
    role = serializers.CharField(help_text="admin, editor or viewer (any case).")
    user_groups = _ids(UserGroup.objects.all(), many=True, required=False, help_text="Group ids.")

    class Meta:
        model = User
        fields = [*USER_FIELDS, "user_groups"]
        read_only_fields = ["id", "username", "is_active"]
        extra_kwargs = {"first_name": {"required": False}, "last_name": {"required": False}}

    def validate_role(self, value: str) -> str:
        role = value.strip().lower()
        if role == "guest":
            raise serializers.ValidationError(
                "Guest users are not supported; a viewer reads published resources only."
            )
        if role not in Role.values:
            raise serializers.ValidationError("Must be Admin, Editor or Viewer.")
        return role

    def validate_email(self, value: str) -> str:
        taken = User.objects.filter(email__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A user with this email address already exists.")
        return value

    def to_representation(self, instance):
        request = self.context.get("request")
        data = {
            "id": str(instance.pk),
            "username": instance.username,
            "email": instance.email
            if may_see_email(getattr(request, "user", None), instance)
            else None,
            "first_name": instance.first_name,
            "last_name": instance.last_name,
            "role": instance.role,
            "is_active": instance.is_active,
            "teams": [str(team.pk) for team in instance.teams.all()],
            "user_groups": [str(group.pk) for group in instance.user_groups.all()],
        }
        return data


class ProfileSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The current user, with what they may change about themselves."""

    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = [*USER_FIELDS, "email_frequency"]
        read_only_fields = [f for f in USER_FIELDS if f not in ("first_name", "last_name")]


class ApiKeySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One of your API keys: its name, the prefix that identifies it, when it was last used
    and whether it was revoked. Never its secret."""

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class NewApiKeySerializer(ApiKeySerializer):
    """A newly created API key with its secret (`key`), which is shown only this once: send
    it as `Authorization: Bearer <key>`."""

    key = serializers.CharField(
        read_only=True, help_text="The secret. It is shown only in this response."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = [*ApiKeySerializer.Meta.read_only_fields, "key"]


class ChangeActorSerializer(serializers.Serializer):
    """Who made a change: the user (or the system), and the API key or integration used."""

    id = serializers.UUIDField(allow_null=True, help_text="Null for the system or a deleted user.")
    name = serializers.CharField(help_text="The actor's name at the time of the change.")
    api_key = serializers.CharField(allow_null=True, help_text="The name of the API key used.")
    integration = serializers.UUIDField(
        allow_null=True, help_text="The integration whose write key made the change."
    )


class ObjectChangeSerializer(serializers.ModelSerializer):
    """One change of a resource, as its history shows it."""

    created_at = serializers.DateTimeField(source="change_set.created_at")
    change_set = serializers.UUIDField(source="change_set_id")
    source = serializers.CharField(source="change_set.source")
    request_id = serializers.CharField(source="change_set.request_id")
    actor = serializers.SerializerMethodField()
    resource = serializers.UUIDField(source="object_id")
    entity_type = serializers.CharField(source="object_type")
    diff = serializers.DictField(
        child=serializers.ListField(),
        help_text="Each changed field: [old, new]; M2M fields as lists of {id, label}.",
    )

    class Meta:
        model = ObjectChange
        fields = [
            "id",
            "created_at",
            "change_set",
            "action",
            "resource",
            "entity_type",
            "title",
            "actor",
            "source",
            "request_id",
            "diff",
        ]

    @extend_schema_field(ChangeActorSerializer)
    def get_actor(self, change):
        return actor_of(change.change_set)


def actor_of(change_set) -> dict:
    """Who made a change set, as every history shows it (`ChangeActorSerializer`)."""
    return {
        "id": str(change_set.actor_id) if change_set.actor_id else None,
        "name": change_set.actor_name,
        "api_key": change_set.api_key_name or None,
        "integration": str(change_set.integration_id) if change_set.integration_id else None,
    }


class DeletedSerializer(serializers.Serializer):
    """The answer to a delete: the id of what was deleted."""

    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


class ErrorSerializer(serializers.Serializer):
    """An error: `detail` says what went wrong, in words for the client's user."""

    detail = serializers.CharField()


class ResourceQuerySerializer(serializers.Serializer):
    """A resource query: a `filter` and a `sort`, as JSON objects."""

    filter = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='e.g. {"operator": "in", "field": "id", "value": ["0d5e...", "..."]}',
    )
    sort = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='e.g. {"field": "updated_at", "order": "desc", "tie_breaker": "id"}',
    )


class WriteKeySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """An integration's write key as admins list it: never its secret nor its hash."""

    class Meta:
        model = WriteKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


#: Said with a new write key's secret, the only time it is shown.
WRITE_KEY_SHOWN_ONCE = "Copy the key now: it is not recoverable; you can create new keys."


class NewWriteKeySerializer(WriteKeySerializer):
    """A newly created write key with its secret (`key`), which is shown only this once:
    trackers send it with the events of the integration."""

    key = serializers.CharField(
        read_only=True,
        help_text="The secret trackers send. It is shown only in this response.",
    )
    detail = serializers.SerializerMethodField()

    class Meta(WriteKeySerializer.Meta):
        fields = [*WriteKeySerializer.Meta.fields, "key", "detail"]
        read_only_fields = [*WriteKeySerializer.Meta.read_only_fields, "key"]

    def get_detail(self, key) -> str:
        return WRITE_KEY_SHOWN_ONCE


class ViolationSerializer(serializers.ModelSerializer):
    """Received events that broke the plan in one way: how often, when, the latest example."""

    integration_id = serializers.UUIDField(read_only=True)
    event_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The catalog's event; null when unknown."
    )
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    example = serializers.JSONField(read_only=True, help_text="The latest offending event.")
    resolved_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a steward marked it resolved; null while open. A resolved violation "
        "that happens again reopens (null again).",
    )
    resolved_by_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="Who marked it resolved."
    )
    resolved_by_name = serializers.SerializerMethodField(
        help_text="Their name (full name, or username); null while open."
    )

    class Meta:
        model = Violation
        fields = [
            "id",
            "integration_id",
            "event_id",
            "event_name",
            "property_name",
            "kind",
            "kind_label",
            "count",
            "first_seen_at",
            "last_seen_at",
            "message",
            "example",
            "resolved_at",
            "resolved_by_id",
            "resolved_by_name",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resolved_by_name(self, violation) -> str | None:
        # Listings join the resolver (`select_related("resolved_by")`).
        return str(violation.resolved_by) if violation.resolved_by_id else None
