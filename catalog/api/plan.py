"""`/api/v1/plan/...`: the tracking plan as a file, in and out, as typed code, and checked.

- `GET plan/export?format=...&integration=...`: the plan the caller may read, as a file;
- `POST plan/import?format=...&integration=...&mode=add|update|sync&dry_run=true`: a file
  (the request body, or a multipart `file` field) applied as one change set, or its diff only;
- `GET plan/codegen?language=typescript|python&integration=...`: one typed function per event;
- `POST plan/check?integration=...`: which sample calls break the plan.
"""

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.serializers import ErrorSerializer
from catalog.api.views import change_context
from catalog.models import Integration, PlanImport
from catalog.policy import plan_imports_visible_to, resource_visibility
from catalog.selectors import tracking_plan_of, uuids_in
from catalog.services.plan import (
    MODES,
    plan_check,
    plan_diff,
    plan_import,
    plan_import_enqueue,
)
from catalog.tasks import plan_import_task
from catalog.tracking_plan.codegen import LANGUAGES, generate
from catalog.tracking_plan.formats import FORMATS, plan_format, read_plan, several_integrations
from catalog.tracking_plan.model import PlanFileError
from catalog.tracking_plan.samples import samples_from


class FirstRenderer(BaseContentNegotiation):
    """Files whatever the client accepts: a tool asking for `text/csv` gets the CSV, not a
    406; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _integration(request, *, required: bool = False) -> Integration | None:
    """The `integration` parameter: an id or a name."""
    value = request.query_params.get("integration", "").strip()
    if not value:
        if required:
            raise ValidationError({"integration": ["Name the integration (its id or name)."]})
        return None
    if "\x00" in value or len(value) > 200:
        raise ValidationError({"integration": ["Give an integration's id or name."]})
    ids = uuids_in([value])
    found = (
        Integration.objects.filter(pk__in=ids).first()
        if ids
        else Integration.objects.filter(name=value).first()
    )
    if found is None:
        raise ValidationError({"integration": [f"There is no integration {value!r}."]})
    return found


def _choice(request, name: str, choices, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise ValidationError({name: [f"Give one of: {', '.join(choices)}."]})
    if value not in choices:
        raise ValidationError(
            {name: [f"Unknown {name} {value!r}: use one of {', '.join(choices)}."]}
        )
    return value


def _flag(request, name: str) -> bool:
    value = request.query_params.get(name, "false").strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise ValidationError({name: [f"Use true or false, not {value!r}."]})


def _too_large(size: int, limit: int) -> Response:
    return Response(
        {"detail": f"The file is too large ({size:,} bytes): at most {limit:,} bytes."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def read_upload(request, limit: int | None = None) -> bytes | Response:
    """The file of a request: its multipart `file` field, or else the whole body; a 413
    answer past PLAN_IMPORT_MAX_BYTES. Read past DRF's parsers, which hold JSON only and
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE, made for forms."""
    limit = limit or settings.PLAN_IMPORT_MAX_BYTES
    django_request = request._request
    if django_request.content_type == "multipart/form-data":
        try:
            upload = django_request.FILES.get("file")
        except MultiPartParserError as error:
            raise ParseError(f"The multipart body can't be read: {error}") from None
        if upload is None:
            raise ValidationError({"file": ["Send the plan as the multipart field `file`."]})
        if upload.size > limit:
            return _too_large(upload.size, limit)
        return upload.read()
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large(declared, limit)
    data = django_request.read(limit + 1)
    if len(data) > limit:
        return _too_large(len(data), limit)
    return data


def _problems(error: PlanFileError) -> Response:
    return Response(
        {
            "detail": "The file can't be imported; nothing was changed.",
            "problems": [p.as_dict() for p in error.problems],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _file_response(data: bytes | str, media_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(stem: str, integration: Integration | None, extension: str) -> str:
    name = f"{stem}-{integration.name}" if integration is not None else stem
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return f"{safe.strip('-') or stem}.{extension}"


class PlanProblemSerializer(serializers.Serializer):
    """Something wrong in a file (or skipped from it), and where it is."""

    position = serializers.CharField(help_text='Where in the file: "row 12", a JSON pointer...')
    message = serializers.CharField()


class PlanProblemsSerializer(serializers.Serializer):
    """Why a file can't be imported: every problem found, with its position."""

    detail = serializers.CharField()
    problems = PlanProblemSerializer(many=True)


class PlanChangeSerializer(serializers.Serializer):
    """One object the import creates, changes or deletes."""

    object_type = serializers.CharField(help_text="tag, event_category, event, event_property")
    id = serializers.UUIDField(allow_null=True, help_text="None in a dry run's creations.")
    integration = serializers.CharField(required=False)
    category = serializers.CharField(required=False)
    event = serializers.CharField(required=False)
    property = serializers.CharField(required=False)
    title = serializers.CharField(required=False, help_text="A tag's title.")
    position = serializers.CharField(required=False)
    fields = serializers.DictField(
        required=False, help_text='Changes only: {field: {"old": ..., "new": ...}}.'
    )
    properties = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Deleted events: theirs too."
    )


class PlanDiffSerializer(serializers.Serializer):
    """What an import changed (or, in a dry run, would change)."""

    dry_run = serializers.BooleanField()
    created = PlanChangeSerializer(many=True)
    changed = PlanChangeSerializer(many=True)
    deleted = PlanChangeSerializer(many=True)
    notices = PlanProblemSerializer(many=True, help_text="What the file held that was skipped.")
    change_set = serializers.UUIDField(
        required=False, allow_null=True, help_text="The change set to undo the import with."
    )


class PlanImportProgressSerializer(serializers.Serializer):
    """How far a background import got: `reading` the file, `applying` it (with its counts),
    then `done` or `failed`."""

    phase = serializers.CharField(required=False)
    events = serializers.IntegerField(required=False)
    properties = serializers.IntegerField(required=False)


class PlanImportSerializer(serializers.ModelSerializer):
    """A plan import running in the background: `queued`, `running`, then `done` with the
    diff it applied (`result`, as the synchronous answer) or `failed` with its problems."""

    url = serializers.SerializerMethodField()
    progress = PlanImportProgressSerializer(read_only=True)
    result = PlanDiffSerializer(allow_null=True, read_only=True)
    problems = PlanProblemSerializer(many=True, read_only=True)

    class Meta:
        model = PlanImport
        fields = (
            "id",
            "url",
            "status",
            "progress",
            "format",
            "mode",
            "dry_run",
            "integration",
            "size",
            "created_at",
            "started_at",
            "finished_at",
            "result",
            "problems",
        )
        read_only_fields = fields

    def get_url(self, job) -> str:
        return reverse("plan-import-detail", args=[job.pk])


_INTEGRATION = OpenApiParameter(
    "integration", str, description="The integration: its id or its name."
)
_FORMAT = OpenApiParameter("format", str, enum=list(FORMATS), required=True)


class PlanExportView(APIView):
    """The tracking plan the caller may read, as a file: viewers get what they see."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="plan_export",
        summary="Export the tracking plan",
        tags=["Tracking plan"],
        parameters=[_FORMAT, _INTEGRATION],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "application/yaml"): OpenApiTypes.BINARY,
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        name = _choice(request, "format", FORMATS)
        integration = _integration(request)
        plan = tracking_plan_of(resource_visibility(request.user), integration)
        if problem := several_integrations(name, plan):
            raise ValidationError({"integration": [problem]})
        module = plan_format(name)
        filename = _filename("tracking-plan", integration, module.EXTENSION)
        return _file_response(module.write(plan), module.MEDIA_TYPE, filename)


class PlanImportView(APIView):
    """Import a tracking plan file: a dry run answers the diff and changes nothing."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FirstRenderer
    parser_classes = []  # the file is read as it is (read_upload)

    @extend_schema(
        operation_id="plan_import",
        summary="Import a tracking plan",
        description=(
            "The file is the request body (what `plan/export` answered can be sent back as it "
            "is) or a multipart `file` field, at most PLAN_IMPORT_MAX_BYTES (64 MiB by "
            "default). `add` creates only what the catalog lacks; `update` also changes the "
            "fields the file gives; `sync` also deletes the integration's events and the "
            "properties the file doesn't have. The import is one change set: undo it with "
            "`POST /api/v1/changes/{change_set}/revert`. A file with problems changes nothing "
            "and the answer lists every problem with its position. A file larger than "
            "PLAN_IMPORT_SYNC_MAX_BYTES (1 MiB by default), or `background=true`, is imported "
            "(or, in a dry run, compared) in the background: the answer is a 202 whose `url` "
            "tells how it went."
        ),
        tags=["Tracking plan"],
        parameters=[
            _FORMAT,
            _INTEGRATION,
            OpenApiParameter("mode", str, enum=list(MODES), default="add"),
            OpenApiParameter("dry_run", bool, default=False),
            OpenApiParameter(
                "background",
                bool,
                default=False,
                description="Import in the background (202) whatever the file's size.",
            ),
        ],
        # One binary body, whatever the format: generated clients take it as bytes. A
        # multipart `file` field works too (browsers' forms, curl -F), said in words only.
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: PlanDiffSerializer,
            202: OpenApiResponse(
                PlanImportSerializer, description="Queued: follow it at its `url`."
            ),
            400: OpenApiResponse(PlanProblemsSerializer, description="Problems in the file."),
            401: ErrorSerializer,
            403: ErrorSerializer,
            413: ErrorSerializer,
        },
    )
    def post(self, request):
        name = _choice(request, "format", FORMATS)
        integration = _integration(request)
        mode = _choice(request, "mode", MODES, default="add")
        dry_run = _flag(request, "dry_run")
        data = read_upload(request)
        if isinstance(data, Response):
            return data
        if _flag(request, "background") or len(data) > settings.PLAN_IMPORT_SYNC_MAX_BYTES:
            return self._queue(request, data, name, mode, dry_run, integration)
        try:
            plan, notices = read_plan(name, data)
            service = plan_diff if dry_run else plan_import
            diff = service(
                ctx=change_context(request), plan=plan, mode=mode, integration=integration
            )
        except PlanFileError as error:
            return _problems(error)
        diff.notices = [n.as_dict() for n in notices]
        return Response(diff.as_dict(dry_run=dry_run))

    def _queue(self, request, data: bytes, name: str, mode: str, dry_run: bool, integration):
        job = plan_import_enqueue(
            ctx=change_context(request),
            data=data,
            format=name,
            mode=mode,
            dry_run=dry_run,
            integration=integration,
        )
        transaction.on_commit(lambda: plan_import_task.enqueue(str(job.pk)))
        body = PlanImportSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class PlanImportDetailView(APIView):
    """A background plan import: poll it until `status` is `done` or `failed`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="plan_import_status",
        summary="Follow a background plan import",
        tags=["Tracking plan"],
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: PlanImportSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk):
        job = plan_imports_visible_to(request.user).filter(pk__in=uuids_in([pk])).first()
        if job is None:
            raise NotFound()
        return Response(PlanImportSerializer(job, context={"request": request}).data)


class PlanCodegenView(APIView):
    """Typed tracking code for the plan the caller may read: one function per event."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="plan_codegen",
        summary="Generate typed tracking code",
        tags=["Tracking plan"],
        parameters=[
            OpenApiParameter("language", str, enum=list(LANGUAGES), required=True),
            _INTEGRATION,
        ],
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        language = _choice(request, "language", LANGUAGES)
        integration = _integration(request)
        plan = tracking_plan_of(resource_visibility(request.user), integration)
        module = import_module(f"catalog.tracking_plan.codegen.{language}")
        return _file_response(generate(language, plan), module.MEDIA_TYPE, module.FILENAME)


class SampleSerializer(serializers.Serializer):
    """One call a tracker would make: the event's name and its properties."""

    event = serializers.CharField(help_text="The event's name, as a tracker sends it.")
    properties = serializers.DictField(required=False, default=dict)


class PlanBreachSerializer(serializers.Serializer):
    """A sample that breaks the plan, and every way it does."""

    index = serializers.IntegerField(help_text="The sample's position in the list, from 0.")
    position = serializers.CharField(help_text="A JSON pointer to the sample.")
    event = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())


class PlanCheckResultSerializer(serializers.Serializer):
    """`ok` is false when any sample breaks the plan; `breaches` lists each one."""

    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    breaches = PlanBreachSerializer(many=True)


class PlanCheckView(APIView):
    """Check sample calls against the plan the caller may read, before a release."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = FirstRenderer
    parser_classes = []

    @extend_schema(
        operation_id="plan_check",
        summary="Check sample events against the plan",
        description=(
            "The body is a JSON list of `{event, properties}` samples (or `{samples: [...]}`, "
            "or a multipart `file` holding either). Each is checked as a call in `block` mode "
            "would be, and an event or property the plan doesn't have is a breach too. The "
            "answer is 200 either way: `ok` says whether every sample passed."
        ),
        tags=["Tracking plan"],
        parameters=[_INTEGRATION],
        request={"application/json": SampleSerializer(many=True)},
        responses={
            200: PlanCheckResultSerializer,
            400: OpenApiResponse(PlanProblemsSerializer, description="Problems in the file."),
            401: ErrorSerializer,
            413: ErrorSerializer,
        },
    )
    def post(self, request):
        integration = _integration(request)
        data = read_upload(request, limit=settings.PLAN_IMPORT_SYNC_MAX_BYTES)
        if isinstance(data, Response):
            return data
        try:
            samples = samples_from(data)
        except PlanFileError as error:
            return _problems(error)
        if not samples and not data.strip():
            raise ParseError("Send the samples as a JSON list.")
        breaches = plan_check(
            visibility=resource_visibility(request.user), samples=samples, integration=integration
        )
        return Response({"ok": not breaches, "checked": len(samples), "breaches": breaches})
