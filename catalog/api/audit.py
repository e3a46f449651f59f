"""`GET /api/v1/changes`: the workspace's audit log, every change set newest first.

Each reader sees the changes the policy lets them read (`catalog.policy.changes_visible_to`):
a change set shows only those, and one with none is not there. The page and its changes cost
two queries whatever the page size (`catalog.selectors.audit_log`).
"""

import uuid

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, serializers
from rest_framework.response import Response

from catalog.api.serializers import ChangeActorSerializer, actor_of
from catalog.api.views import ERRORS
from catalog.models import ChangeSet, ChangeSource, ObjectChange, ObjectType
from catalog.policy import resource_visibility
from catalog.selectors import audit_log, hide_unseen_labels
from catalog.timestamps import OutOfRange, parse_moment

#: How the API names each kind of object: as the database does, but a category is a
#: `category`, as its routes say (`/event/category`). The one place the two names meet.
API_OBJECT_TYPES: dict[str, str] = {
    kind.value: "category" if kind == ObjectType.EVENT_CATEGORY else kind.value
    for kind in ObjectType
}
STORED_OBJECT_TYPES = {name: kind for kind, name in API_OBJECT_TYPES.items()}


class ObjectTypeField(serializers.ChoiceField):
    """An object's kind in the API's words (`API_OBJECT_TYPES`)."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[(name, ObjectType(kind).label) for name, kind in STORED_OBJECT_TYPES.items()],
            **kwargs,
        )

    def to_representation(self, value):
        return API_OBJECT_TYPES.get(value, value)


class AuditChangeSerializer(serializers.ModelSerializer):
    """One object a change set created, changed or deleted, with its changed fields."""

    object_type = ObjectTypeField()
    diff = serializers.DictField(
        child=serializers.ListField(),
        help_text="Each changed field: [old, new]; relations as {id, label} pairs.",
    )

    class Meta:
        model = ObjectChange
        fields = ["object_type", "object_id", "title", "action", "diff"]


class ChangeSetSerializer(serializers.ModelSerializer):
    """One call's changes, as the audit log shows them to its reader."""

    actor = serializers.SerializerMethodField()
    reverts = serializers.UUIDField(
        source="reverts_id", allow_null=True, help_text="The change set this one undid."
    )
    changes = AuditChangeSerializer(
        source="visible_changes",
        many=True,
        help_text="The changes you may see (of the object filtered on, if any), in order.",
    )

    class Meta:
        model = ChangeSet
        fields = ["id", "created_at", "actor", "source", "request_id", "reverts", "changes"]

    @extend_schema_field(ChangeActorSerializer)
    def get_actor(self, change_set):
        return actor_of(change_set)


class MomentField(forms.Field):
    """An ISO 8601 date or date and time (UTC when it names no offset), as the event log
    reads them: whatever no database can store is the client's mistake, said so."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not value.isprintable():
            raise DjangoValidationError("A date may not hold control characters.")
        try:
            moment = parse_moment(value.strip())
        except OutOfRange as error:
            raise DjangoValidationError(str(error)) from error
        if moment is None:
            raise DjangoValidationError(
                "Must be an ISO 8601 date or date and time, e.g. 2026-01-02T10:00:00Z."
            )
        return moment


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentFilter(django_filters.Filter):
    field_class = MomentField


class ChangeSetFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since > until:
            self.add_error("until", "Must not be before since.")
        return data


class ChangeSetFilter(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(
        choices=[(name, ObjectType(kind).label) for name, kind in STORED_OBJECT_TYPES.items()],
        method="by_object",
        help_text="Only changes of this kind of object.",
    )
    object_id = django_filters.UUIDFilter(
        method="by_object", help_text="Only changes of this object (its id)."
    )
    actor = django_filters.UUIDFilter(
        field_name="actor_id", help_text="Only change sets made by this user (their id)."
    )
    source = django_filters.ChoiceFilter(
        choices=ChangeSource.choices, help_text="Only change sets made through this."
    )
    since = MomentFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Only change sets made at or after this ISO 8601 date or date and time "
        "(UTC when no offset is given).",
    )
    until = MomentFilter(
        field_name="created_at",
        lookup_expr="lte",
        help_text="Only change sets made at or before this date or date and time.",
    )

    class Meta:
        model = ChangeSet
        fields = ["object_type", "object_id", "actor", "source", "since", "until"]
        form = ChangeSetFilterForm

    def by_object(self, queryset, name, value):
        # Which changes match is the selector's question, asked in `filter_queryset`
        # together with what the reader may see.
        return queryset

    def filter_queryset(self, queryset):
        """The sets' own filters first, then the sets holding a change the reader may see of
        the object filtered on: those changes are the ones the set shows."""
        data = self.form.cleaned_data
        object_type = data.get("object_type")
        return audit_log(
            self.request.user,
            sets=super().filter_queryset(queryset),
            object_type=STORED_OBJECT_TYPES[object_type] if object_type else None,
            object_id=data.get("object_id"),
        )


def _hide_unseen(request, change_sets) -> None:
    changes = [change for change_set in change_sets for change in change_set.visible_changes]
    hide_unseen_labels(resource_visibility(request.user), changes)


EXAMPLE = {
    "id": "9f1c3800-6b1e-4f7a-9d55-3c2b1a0e9f10",
    "created_at": "2026-11-29T05:08:13.512000Z",
    "actor": {
        "id": "0d5e7a64-2c0b-4f7e-8b1a-1f2e3d4c5b6a",
        "name": "Ada Lovelace",
        "api_key": "CI checks",
        "integration": None,
    },
    "source": "api",
    "request_id": "ci-42",
    "reverts": None,
    "changes": [
        {
            "object_type": "event",
            "object_id": "5473e796-f45e-4465-bc42-261933ed377b",
            "title": "Order Completed",
            "action": "update",
            "diff": {
                "pii": [False, True],
                "tags": [[], [{"id": "04654d61-7a3f-4b43-9d0e-1c2b3a4d5e6f", "label": "checkout"}]],
            },
        }
    ],
}
WHO_SEES = (
    "Admins see every change; editors the changes of categories, events, properties, "
    "collections and tags; viewers those of the resources and collections they may read today. "
    "A change set shows only the changes you may see, and one with none is left out. For "
    "viewers, a parent or collection they may not see keeps its id in a diff, with "
    '`"label": "(not visible to you)", "hidden": true`.'
)


@extend_schema(
    tags=["Audit log"],
    summary="List change sets (the audit log)",
    description="Every change set of the workspace, newest first, paged like every list: who "
    "made it, through what, and each object's `[old, new]` per changed field. `object_type` "
    "and `object_id` also narrow each set's `changes` to the matching ones. " + WHO_SEES,
    responses={200: ChangeSetSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
)
class ChangeSetListView(generics.ListAPIView):
    serializer_class = ChangeSetSerializer
    # Pinned: the filter set is what narrows the sets to what the reader may see
    # (`ChangeSetFilter.filter_queryset`), together with the object filters.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeSetFilter

    def get_queryset(self):
        return ChangeSet.objects.all()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        _hide_unseen(request, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(
    tags=["Audit log"],
    summary="Get a change set by id",
    description="One change set of the audit log (its id with or without dashes). " + WHO_SEES,
    parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    responses={200: ChangeSetSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    examples=[OpenApiExample("A change set", value=EXAMPLE, response_only=True)],
)
class ChangeSetDetailView(generics.GenericAPIView):
    serializer_class = ChangeSetSerializer
    filter_backends = []
    pagination_class = None

    def get(self, request, id: str):
        try:
            pk = uuid.UUID(id)
        except ValueError as error:
            raise exceptions.NotFound() from error
        change_set = audit_log(request.user).filter(pk=pk).first()
        if change_set is None:
            raise exceptions.NotFound()
        _hide_unseen(request, [change_set])
        return Response(self.get_serializer(change_set).data)
