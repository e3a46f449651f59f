"""API views: a few declarations each; the work happens in selectors and services."""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from catalog.api import serializers as s
from catalog.api.pagination import CatalogPagination
from catalog.api.resource_query import ResourceQueryError, apply_resource_query
from catalog.filtersets import (
    EventCategoryFilterSet,
    EventFilterSet,
    ResourceFilterSet,
    TagFilterSet,
)
from catalog.models import (
    ApiKey,
    ChangeSource,
    Collection,
    CustomProperty,
    EntityType,
    Integration,
    Resource,
    Tag,
    Team,
    User,
    UserGroup,
    Violation,
    ViolationKind,
    WriteKey,
)
from catalog.policy import (
    Action,
    collections_visible_to,
    ensure_for,
    may,
    may_see_email,
    resource_visibility,
)
from catalog.selectors import (
    custom_values_of,
    hide_unseen_labels,
    history_of,
    resources_visible_to,
    violations_of,
    visible_resource,
    with_details,
)
from catalog.services import keys, writekeys
from catalog.services.context import ChangeContext
from catalog.services.resources import (
    resource_create,
    resource_custom_value_set,
    resource_delete,
    resource_update,
)
from catalog.services.workspace import (
    user_create,
    user_deactivate,
    user_update,
    user_update_profile,
    workspace_object_create,
    workspace_object_delete,
    workspace_object_update,
)

ERRORS = {
    400: OpenApiResponse(description="The request is invalid; the body says which field."),
    401: OpenApiResponse(s.ErrorSerializer, description="No API key, or a wrong one."),
    403: OpenApiResponse(s.ErrorSerializer, description="Your role may not do this."),
    404: OpenApiResponse(s.ErrorSerializer, description="No such object (or not visible)."),
    409: OpenApiResponse(s.ErrorSerializer, description="Still in use; nothing was deleted."),
}
READ_ERRORS = {401: ERRORS[401]}
ONE_ERRORS = {401: ERRORS[401], 404: ERRORS[404]}
WRITE_ERRORS = {code: ERRORS[code] for code in (400, 401, 403)}
CHANGE_ERRORS = ERRORS
DELETE_ERRORS = {code: ERRORS[code] for code in (401, 403, 404, 409)}


def change_context(request) -> ChangeContext:
    return ChangeContext.for_request(request, ChangeSource.API)


def create_resource(request, serializer, entity_type: str) -> None:
    """Create a resource of `entity_type` from a valid serializer; a null integration means
    the parent's."""
    data = dict(serializer.validated_data)
    if data.get("integration", False) is None:
        del data["integration"]
    serializer.instance = resource_create(
        ctx=change_context(request), entity_type=entity_type, data=data
    )


def update_resource(request, serializer) -> None:
    """Apply a valid PATCH; the resource's own integration (or null) is no change."""
    data = dict(serializer.validated_data)
    integration = data.get("integration", False)
    if (
        integration is None
        or getattr(integration, "pk", None) == serializer.instance.integration_id
    ):
        del data["integration"]
    serializer.instance = resource_update(
        ctx=change_context(request), resource=serializer.instance, data=data
    )


def read_resource(view, entity_type: str | None = None) -> Resource:
    """The resource a GET or HEAD of a detail route names, with its details, as `get_object`
    answers: 404 for an id that is malformed, unknown or not visible to the reader, then the
    view's object permissions."""
    try:
        pk = Resource._meta.pk.to_python(view.kwargs[view.lookup_url_kwarg or view.lookup_field])
    except DjangoValidationError as error:
        raise exceptions.NotFound() from error
    resource = visible_resource(view.request.user, pk, entity_type)
    if resource is None:
        raise exceptions.NotFound()
    view.check_object_permissions(view.request, resource)
    return resource


def deleted(pk) -> Response:
    """The seed answers a delete with 200 and a small body."""
    return Response({"id": str(pk), "deleted": True}, status=status.HTTP_200_OK)


class CatalogViewSet(viewsets.ModelViewSet):
    """What every endpoint of the API shares: no PUT (the seed has PATCH), 200 on delete."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def filter_queryset(self, queryset):
        # A detail route names its row by id: the list's filters don't narrow it (building
        # the filter set was a sixth of an event-by-id request).
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def update(self, request, *args, **kwargs):
        # PATCH only, so every update is partial.
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        pk = instance.pk
        self.perform_destroy(instance)
        return deleted(pk)


class ResourceViewSet(CatalogViewSet):
    """Categories, events or properties, depending on `entity_type`."""

    entity_type: str = ""
    policy_model = Resource
    filterset_class = ResourceFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Resource.objects.none()
        queryset = resources_visible_to(self.request.user, self.entity_type)
        if self.action == "list":
            queryset = with_details(queryset)
        return queryset.order_by("title", "id")

    def get_object(self):
        if self.action == "retrieve":
            return read_resource(self, self.entity_type)
        return super().get_object()

    def perform_create(self, serializer):
        create_resource(self.request, serializer, self.entity_type)

    def perform_update(self, serializer):
        update_resource(self.request, serializer)

    def perform_destroy(self, instance):
        resource_delete(ctx=change_context(self.request), resource=instance)

    @action(detail=True, methods=["get"], pagination_class=CatalogPagination, filterset_class=None)
    def history(self, request, *args, **kwargs):
        """Who changed this resource, when, through what, and each field's old and new value."""
        resource = self.get_object()
        page = self.paginate_queryset(history_of(resource.pk))
        hide_unseen_labels(resource_visibility(request.user), page)
        return self.get_paginated_response(s.ObjectChangeSerializer(page, many=True).data)


def _resource_docs(noun: str, plural: str, serializer, *, deprecated: bool = False, note=""):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            description=note + f"List the {plural} in the workspace, optionally filtered.",
            deprecated=deprecated,
            responses={200: serializer(many=True), **READ_ERRORS, 400: ERRORS[400]},
        ),
        create=extend_schema(
            summary=f"Create {noun}",
            responses={201: serializer, **WRITE_ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"Get {noun} by id",
            description=note + f"Retrieve one {noun} (its id with or without dashes).",
            deprecated=deprecated,
            responses={200: serializer, **ONE_ERRORS},
        ),
        partial_update=extend_schema(
            summary=f"Update {noun}",
            description="Change the given fields; lists of ids replace the current sets.",
            responses={200: serializer, **CHANGE_ERRORS},
        ),
        destroy=extend_schema(
            summary=f"Delete {noun}",
            description=f"Delete the {noun} and everything under it.",
            responses={200: s.DeletedSerializer, **DELETE_ERRORS},
        ),
        history=extend_schema(
            summary=f"History of {noun}",
            description=(
                f"Every change of the {noun}, newest first: who, when, through what (API, "
                "admin, pages, ingestion, a command) and each changed field's `[old, new]` "
                "value; many-to-many fields as lists of `{id, label}`."
            ),
            filters=False,
            responses={200: s.ObjectChangeSerializer(many=True), **ONE_ERRORS},
        ),
    )


@_resource_docs("event category", "event categories", s.EventCategorySerializer)
@extend_schema(tags=["Events"])
class EventCategoryViewSet(ResourceViewSet):
    entity_type = EntityType.EVENT_CATEGORY
    serializer_class = s.EventCategorySerializer
    filterset_class = EventCategoryFilterSet


EVENTS_DEPRECATED = (
    "Deprecated: use the resource query instead, with "
    'filter={"operator":"exact","field":"type","value":"event"}.\n\n'
)


def _violations_docs(noun: str):
    return extend_schema(
        summary=f"Violations of {noun}",
        description=(
            f"What the events received for this {noun} broke in the tracking plan, counted, "
            "the most recently seen first, each with the latest message and example. Editors "
            "and admins only (received payloads may hold personal data)."
        ),
        filters=False,
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=ViolationKind.values),
        ],
        responses={
            200: s.ViolationSerializer(many=True),
            400: ERRORS[400],
            **{code: ERRORS[code] for code in (401, 403, 404)},
        },
    )


def may_read_violations(request) -> None:
    """Refuse viewers: violations hold what trackers sent."""
    if not may(request.user, Action.VIEW, Violation):
        raise exceptions.PermissionDenied("Only editors and admins can read violations.")


def violations_page(view, request, **where) -> Response:
    """A page of violations of an event or integration, optionally of one `kind`."""
    kind = request.query_params.get("kind") or None
    if kind is not None and kind not in ViolationKind.values:
        raise ValidationError({"kind": [f"Must be one of {', '.join(ViolationKind.values)}."]})
    page = view.paginate_queryset(violations_of(kind=kind, **where).select_related("resolved_by"))
    return view.get_paginated_response(s.ViolationSerializer(page, many=True).data)


@_resource_docs("event", "events", s.EventSerializer, deprecated=True, note=EVENTS_DEPRECATED)
@extend_schema(tags=["Events"])
class EventViewSet(ResourceViewSet):
    entity_type = EntityType.EVENT
    serializer_class = s.EventSerializer
    filterset_class = EventFilterSet

    @_violations_docs("an event")
    @action(detail=True, methods=["get"], pagination_class=CatalogPagination, filterset_class=None)
    def violations(self, request, *args, **kwargs):
        may_read_violations(request)
        return violations_page(self, request, event=self.get_object())


@_resource_docs("event property", "event properties", s.EventPropertySerializer)
@extend_schema(tags=["Events"])
class EventPropertyViewSet(ResourceViewSet):
    entity_type = EntityType.EVENT_PROPERTY
    serializer_class = s.EventPropertySerializer


KIND_CHOICES = ", ".join(EntityType.values)
QUERY_DESCRIPTION = (
    "Every kind of resource, filtered by a JSON `filter` and sorted by a JSON `sort`. "
    "Field operators: exact, contains, in, is_set, gte, lte; logical: and, or, not "
    "with `operands`, nested freely. Results are paged at most 10,000 deep."
)


def queried_resources(request, filter_, sort):
    """The resources `request`'s user may see, filtered and sorted by the resource query's
    `filter_` and `sort` (JSON text, or the JSON itself); a 400 saying what is wrong."""
    try:
        return apply_resource_query(
            with_details(resources_visible_to(request.user)), filter_=filter_, sort=sort
        )
    except ResourceQueryError as error:
        raise ValidationError({"detail": str(error)}) from error


@extend_schema_view(
    get=extend_schema(
        summary="Query resources",
        description=(
            f"{QUERY_DESCRIPTION} A query too long for a URL (over 8,190 bytes, such as an "
            "`in` list of a few hundred ids) goes to `POST /api/v1/resource/catalog/query`."
        ),
        parameters=[
            OpenApiParameter(
                "filter",
                OpenApiTypes.STR,
                description='e.g. {"operator":"exact","field":"type","value":"event"}',
            ),
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                description='e.g. {"field":"updated_at","order":"desc","tie_breaker":"id"}',
            ),
        ],
        responses={200: s.AnyResourceSerializer(many=True), 400: ERRORS[400], **READ_ERRORS},
    ),
    post=extend_schema(
        summary="Create a resource of any kind",
        description=f"`entity_type` says which: {KIND_CHOICES}; then the kind's fields.",
        request=s.AnyResourceSerializer,
        responses={201: s.AnyResourceSerializer, **WRITE_ERRORS},
    ),
)
@extend_schema(tags=["Resources"])
class ResourceQueryView(generics.ListCreateAPIView):
    serializer_class = s.AnyResourceSerializer
    policy_model = Resource

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        params = self.request.query_params
        return queried_resources(self.request, params.get("filter"), params.get("sort"))

    def _kind(self) -> str | None:
        data = self.request.data if self.request is not None else None
        kind = data.get("entity_type") if isinstance(data, dict) else None
        return kind if kind in EntityType.values else None

    def get_serializer_class(self):
        # The kind's serializer for a create; the generic one for lists, forms and OPTIONS.
        kind = self._kind() if self.request is not None else None
        return s.SERIALIZER_BY_KIND[kind] if kind else super().get_serializer_class()

    def create(self, request, *args, **kwargs):
        if self._kind() is None:
            raise ValidationError({"entity_type": [f"Must be one of {KIND_CHOICES}."]})
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        create_resource(self.request, serializer, self._kind())


@extend_schema(
    tags=["Resources"],
    summary="Query resources, the query in a JSON body",
    description=(
        f"{QUERY_DESCRIPTION} The same query as `GET /api/v1/resource/catalog`, for filters "
        "too long for a URL: `filter` and `sort` in the body, `page` and `page_size` in the "
        "query string (as in `links.next`). A read: every role may use it."
    ),
    request=s.ResourceQuerySerializer,
    parameters=[
        OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="Results a page, 1 to 200."),
    ],
    responses={200: s.AnyResourceSerializer(many=True), 400: ERRORS[400], **READ_ERRORS},
)
class ResourceQueryPostView(generics.GenericAPIView):
    """The resource query with its filter in the body: a `GET` line holds at most 8,190
    bytes at the server (gunicorn's largest), about 180 ids, while a filter may hold 1,000."""

    serializer_class = s.AnyResourceSerializer
    policy_model = Resource
    #: Posting a query reads: the policy's read rule, not its create rule.
    method_actions = {"POST": Action.VIEW}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        body = self.request.data
        if not isinstance(body, dict):
            raise ValidationError({"detail": 'The body is a JSON object: {"filter", "sort"}.'})
        # An HTML form (the browsable API's) also sends its CSRF token as a field.
        known = {*s.ResourceQuerySerializer().fields, "csrfmiddlewaretoken"}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ValidationError(
                {
                    "detail": f"Unknown keys: {', '.join(unknown)}. The body takes `filter` and "
                    "`sort`; `page` and `page_size` go in the query string, as in `links.next`."
                }
            )
        return queried_resources(self.request, body.get("filter"), body.get("sort"))

    def post(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="Get any resource by id",
        description="A category, an event or an event property, whichever the id is.",
        responses={200: s.AnyResourceSerializer, **ONE_ERRORS},
    ),
    patch=extend_schema(
        summary="Update any resource",
        description="Change the given fields; lists of ids replace the current sets.",
        request=s.AnyResourceSerializer,
        responses={200: s.AnyResourceSerializer, **CHANGE_ERRORS},
    ),
    delete=extend_schema(
        summary="Delete any resource",
        description="Delete the resource and everything under it.",
        responses={200: s.DeletedSerializer, **DELETE_ERRORS},
    ),
)
@extend_schema(tags=["Resources"])
class ResourceDetailView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.AnyResourceSerializer
    policy_model = Resource
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        return resources_visible_to(self.request.user)

    def get_serializer_class(self):
        instance = getattr(self, "_instance", None)
        if instance is not None:
            return s.SERIALIZER_BY_KIND[instance.entity_type]
        return super().get_serializer_class()

    def get_object(self):
        if self.request.method in ("GET", "HEAD"):
            self._instance = read_resource(self)
        else:
            self._instance = super().get_object()
        return self._instance

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)

    def get_serializer(self, *args, **kwargs):
        # `custom_properties` is read here and set on its own route; a client sending back
        # what it read must not be refused for it.
        data = kwargs.get("data")
        if isinstance(data, dict) and "custom_properties" in data:
            kwargs["data"] = {k: v for k, v in data.items() if k != "custom_properties"}
        return super().get_serializer(*args, **kwargs)

    def perform_update(self, serializer):
        update_resource(self.request, serializer)

    def finalize_response(self, request, response, *args, **kwargs):
        # The one route that shows a resource's custom property values, as clients expect.
        if request.method in ("GET", "PATCH") and response.status_code == 200:
            response.data["custom_properties"] = custom_values_of(response.data["id"])
        return super().finalize_response(request, response, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        resource_delete(ctx=change_context(request), resource=instance)
        return deleted(instance.pk)


@extend_schema(
    summary="Create event property (client alias)",
    description=(
        "The route existing clients create properties with: `type`, `is_required` and `enum` "
        "stand for `data_type`, `required` and `allowed_values`."
    ),
    responses={201: s.EventPropertySerializer, **WRITE_ERRORS},
)
@extend_schema(tags=["Events"])
class EventPropertyCreateView(generics.CreateAPIView):
    serializer_class = s.EventPropertyCreateSerializer
    policy_model = Resource

    def perform_create(self, serializer):
        create_resource(self.request, serializer, EntityType.EVENT_PROPERTY)


def _workspace_docs(noun: str, plural: str, serializer, *, write: str):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}", responses={200: serializer(many=True), **READ_ERRORS}
        ),
        create=extend_schema(
            summary=f"Create {noun}",
            description=f"Needs the {write} role.",
            responses={201: serializer, **WRITE_ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"Get {noun} by id", responses={200: serializer, **ONE_ERRORS}
        ),
        partial_update=extend_schema(
            summary=f"Update {noun}",
            description=f"Needs the {write} role.",
            responses={200: serializer, **CHANGE_ERRORS},
        ),
        destroy=extend_schema(
            summary=f"Delete {noun}",
            description=f"Needs the {write} role.",
            responses={200: s.DeletedSerializer, **DELETE_ERRORS},
        ),
    )


class WorkspaceViewSet(CatalogViewSet):
    """Tags, collections, teams and integrations, written through the workspace service."""

    @property
    def policy_model(self):
        return self.queryset.model

    def perform_create(self, serializer):
        serializer.instance = workspace_object_create(
            ctx=change_context(self.request),
            model=self.queryset.model,
            data=serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = workspace_object_update(
            ctx=change_context(self.request),
            obj=serializer.instance,
            data=serializer.validated_data,
        )

    def perform_destroy(self, instance):
        workspace_object_delete(ctx=change_context(self.request), obj=instance)


@_workspace_docs("tag", "tags", s.TagSerializer, write="editor")
@extend_schema(tags=["Workspace"])
class TagViewSet(WorkspaceViewSet):
    queryset = Tag.objects.all()
    serializer_class = s.TagSerializer
    filterset_class = TagFilterSet
    # Only ids: /tag/tags is the list under its older name.
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"


@_workspace_docs("collection", "collections", s.CollectionSerializer, write="editor")
@extend_schema(tags=["Workspace"])
class CollectionViewSet(WorkspaceViewSet):
    queryset = Collection.objects.prefetch_related(*s.COLLECTION_M2M)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collection.objects.none()
        # Viewers see published collections only, as with resources.
        return collections_visible_to(self.request.user).prefetch_related(*s.COLLECTION_M2M)

    serializer_class = s.CollectionSerializer
    filterset_fields = {"title": ["exact"]}


@_workspace_docs("team", "teams", s.TeamSerializer, write="admin")
@extend_schema(tags=["Workspace"])
class TeamViewSet(WorkspaceViewSet):
    queryset = Team.objects.prefetch_related("members")
    serializer_class = s.TeamSerializer
    filterset_fields = {"name": ["exact"]}


@_workspace_docs("custom property", "custom properties", s.CustomPropertySerializer, write="admin")
@extend_schema(tags=["Resources"])
class CustomPropertyViewSet(WorkspaceViewSet):
    """The workspace's own fields (admins define them; editors set their values)."""

    queryset = CustomProperty.objects.all()
    serializer_class = s.CustomPropertySerializer
    filterset_fields = {"name": ["exact"]}
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"


@extend_schema(tags=["Resources"])
class CustomValueView(generics.GenericAPIView):
    serializer_class = s.CustomValueSerializer
    policy_model = Resource

    @extend_schema(
        operation_id="custom_property_value_set",
        summary="Set a custom property's value on a resource",
        description=(
            "The value must be of the property's type; null clears it. Editors and admins."
        ),
        request=s.CustomValueSerializer,
        responses={200: OpenApiTypes.OBJECT, **CHANGE_ERRORS},
    )
    def patch(self, request, property_id, resource_id):
        custom_property = get_object_or_404(CustomProperty, pk=_uuid_or_404(property_id))
        resource = get_object_or_404(
            resources_visible_to(request.user), pk=_uuid_or_404(resource_id)
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        value = resource_custom_value_set(
            ctx=change_context(request),
            resource=resource,
            custom_property=custom_property,
            value=serializer.validated_data.get("value"),
        )
        return Response(
            {
                "id": str(custom_property.pk),
                "name": custom_property.name,
                "resource": str(resource.pk),
                "value": value,
            }
        )


def username_for(email: str) -> str:
    """A username from the address's local part ("ada" for ada@example.com), made unique with
    a number: never the address itself, which viewers must not see."""
    base = (email.split("@", 1)[0] or "user")[:140]
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _uuid_or_404(value: str):
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise exceptions.NotFound() from error


@_workspace_docs("group", "groups", s.UserGroupSerializer, write="admin")
@extend_schema(tags=["Workspace"])
class UserGroupViewSet(WorkspaceViewSet):
    """Groups of users that can own resources; their members hear of changes as owners do."""

    queryset = UserGroup.objects.prefetch_related("users")
    serializer_class = s.UserGroupSerializer
    filterset_fields = {"name": ["exact"]}


@_workspace_docs("integration", "integrations", s.IntegrationSerializer, write="admin")
@extend_schema(tags=["Workspace"])
class IntegrationViewSet(WorkspaceViewSet):
    queryset = Integration.objects.prefetch_related("teams")
    serializer_class = s.IntegrationSerializer
    filterset_fields = {"name": ["exact"], "type": ["exact"]}

    # Write keys: what trackers send events with. Admins only, for every method (the policy's
    # default for WriteKey); a write key is no API key, so it can't call these (401).

    def _write_key_integration(self, request, action: Action) -> Integration:
        """The integration in the URL, once the policy lets the caller `action` write keys."""
        ensure_for(ctx=change_context(request), action=action, target=WriteKey)
        return self.get_object()

    @extend_schema(
        summary="List an integration's write keys",
        description=(
            "Admins only. Active and revoked keys (with `revoked_at`), newest first; never "
            "their secrets."
        ),
        filters=False,
        responses={200: s.WriteKeySerializer(many=True), **ONE_ERRORS, 403: ERRORS[403]},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="write_keys",
        serializer_class=s.WriteKeySerializer,
        filterset_fields=None,
    )
    def write_keys(self, request, *args, **kwargs):
        integration = self._write_key_integration(request, Action.VIEW)
        page = self.paginate_queryset(integration.write_keys.order_by("-created_at", "-pk"))
        return self.get_paginated_response(s.WriteKeySerializer(page, many=True).data)

    @extend_schema(
        summary="Create a write key",
        description=(
            "Admins only. Trackers send the integration's events with it; it can't call this "
            "API. The secret (`key`) is in this response only: copy it now."
        ),
        request=s.WriteKeySerializer,
        responses={201: s.NewWriteKeySerializer, **WRITE_ERRORS, 404: ERRORS[404]},
    )
    @write_keys.mapping.post
    def create_write_key(self, request, *args, **kwargs):
        integration = self._write_key_integration(request, Action.ADD)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, secret = writekeys.write_key_create(
            ctx=change_context(request),
            integration=integration,
            name=serializer.validated_data.get("name", ""),
        )
        key.key = secret
        return Response(s.NewWriteKeySerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a write key",
        description=(
            "Admins only. The key stops working at once; its record stays, with `revoked_at`. "
            "Revoking a revoked key changes nothing."
        ),
        parameters=[
            OpenApiParameter(
                "key_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The key's id."
            ),
        ],
        request=None,
        responses={204: None, **{code: ERRORS[code] for code in (401, 403, 404)}},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"write_keys/(?P<key_id>[^/.]+)",
        serializer_class=s.WriteKeySerializer,
        filterset_fields=None,
    )
    def revoke_write_key(self, request, *args, key_id: str = "", **kwargs):
        integration = self._write_key_integration(request, Action.DELETE)
        key = get_object_or_404(integration.write_keys.all(), pk=_uuid_or_404(key_id))
        writekeys.write_key_revoke(ctx=change_context(request), key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @_violations_docs("an integration")
    @action(detail=True, methods=["get"], pagination_class=CatalogPagination)
    def violations(self, request, *args, **kwargs):
        may_read_violations(request)
        integration = get_object_or_404(Integration.objects.only("pk"), pk=kwargs["pk"])
        return violations_page(self, request, integration=integration)


@_workspace_docs("user", "users", s.UserSerializer, write="admin")
@extend_schema(tags=["Users"])
class UserViewSet(CatalogViewSet):
    """Users: everyone reads them (email addresses only for editors and admins); admins add,
    change and remove them. Removing deactivates: the user can't log in or use keys, leaves
    the lists, and keeps their name in the history."""

    queryset = User.objects.filter(is_active=True).prefetch_related("teams", "user_groups")
    serializer_class = s.UserSerializer
    policy_model = User
    filterset_fields = {"username": ["exact"], "email": ["exact"], "role": ["exact"]}
    # Only ids: /user/me, /user/users and /user/api_keys are routes of their own.
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def filter_queryset(self, queryset):
        # Filtering by address would tell a viewer whose address it is.
        if "email" in self.request.query_params and not may_see_email(self.request.user, None):
            raise ValidationError({"email": ["Only editors and admins can filter by email."]})
        return super().filter_queryset(queryset)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = user_create(
            ctx=change_context(self.request),
            username=username_for(data["email"]),
            **data,
        )

    def perform_update(self, serializer):
        serializer.instance = user_update(
            ctx=change_context(self.request),
            user=serializer.instance,
            data=serializer.validated_data,
        )

    def perform_destroy(self, instance):
        user_deactivate(ctx=change_context(self.request), user=instance)


@extend_schema_view(
    get=extend_schema(
        summary="The current user",
        description="You, as the API key's owner: name, email, role and email preferences.",
        responses={200: s.ProfileSerializer, **READ_ERRORS},
    ),
    patch=extend_schema(
        summary="Update your profile",
        description=(
            "Change your name, or `email_frequency`: `immediate` (an email per change of what "
            "you follow) or `daily` (one digest a day)."
        ),
        responses={200: s.ProfileSerializer, **WRITE_ERRORS},
    ),
)
@extend_schema(tags=["Users"])
class MeView(generics.GenericAPIView):
    serializer_class = s.ProfileSerializer
    # Everyone may change their own profile; the service checks it is their own.
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(self.get_serializer(request.user).data)

    def patch(self, request):
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(
            ctx=change_context(request),
            user=request.user,
            data=serializer.validated_data,
        )
        return Response(self.get_serializer(user).data)


@extend_schema_view(
    list=extend_schema(
        summary="List your API keys", responses={200: s.ApiKeySerializer(many=True), **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Create an API key",
        description=(
            "The secret (`key`) is in this response only; store it now. Only in a logged-in "
            "browser session: a request authenticated with an API key gets 403."
        ),
        request=s.ApiKeySerializer,
        responses={201: s.NewApiKeySerializer, **WRITE_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get one of your API keys", responses={200: s.ApiKeySerializer, **ONE_ERRORS}
    ),
    destroy=extend_schema(
        summary="Revoke an API key",
        description="The key stops working at once. Its record stays, marked revoked.",
        responses={200: s.DeletedSerializer, **DELETE_ERRORS},
    ),
)
@extend_schema(tags=["Users"])
class ApiKeyViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API keys. Every role may manage its own; a key acts with its user's role."""

    serializer_class = s.ApiKeySerializer
    policy_model = ApiKey

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return self.request.user.api_keys.all()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, secret = keys.api_key_create(
            ctx=change_context(request),
            user=request.user,
            name=serializer.validated_data.get("name", ""),
        )
        key.key = secret
        return Response(s.NewApiKeySerializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        key = self.get_object()
        keys.api_key_revoke(ctx=change_context(request), key=key)
        return deleted(key.pk)
