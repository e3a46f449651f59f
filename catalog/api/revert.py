"""`POST /api/v1/changes/{id}/revert`: undo a change set (see `catalog.services.revert`)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from catalog.api.audit import ChangeSetSerializer
from catalog.api.serializers import ErrorSerializer
from catalog.api.views import change_context
from catalog.models import ChangeSet
from catalog.policy import changes_visible_to
from catalog.selectors import uuids_in
from catalog.services.revert import change_set_revert


class RevertRequestSerializer(serializers.Serializer):
    """How to undo a change set."""

    force = serializers.BooleanField(
        default=False,
        help_text="Undo even when later changes touched the same fields (they are overwritten).",
    )


class RevertConflictItemSerializer(serializers.Serializer):
    """A later change that touched fields the undo would put back: which object, which
    fields, and the change set that changed them (who, when)."""

    object_type = serializers.CharField()
    object_id = serializers.UUIDField()
    title = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    change_set = serializers.UUIDField()
    actor = serializers.CharField()
    created_at = serializers.DateTimeField()


class RevertConflictSerializer(serializers.Serializer):
    """Why a change set wasn't undone: later changes touched the same fields. Send
    `force: true` to undo it anyway, overwriting them."""

    detail = serializers.CharField()
    conflicts = serializers.ListField(child=RevertConflictItemSerializer())


class ChangeSetRevertView(GenericAPIView):
    """Undo a change set: every field it changed is put back, what it created is deleted,
    what it deleted is restored with the same ids; a new change set records the undo."""

    serializer_class = RevertRequestSerializer
    queryset = ChangeSet.objects.all()  # documents the id's type
    # Whoever may make the inverse change may undo: the services ask the policy.
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="changes_revert",
        summary="Undo a change set",
        tags=["Audit log"],
        request=RevertRequestSerializer,
        responses={
            201: ChangeSetSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                RevertConflictSerializer, description="Later changes, or nothing to undo."
            ),
        },
    )
    def post(self, request, pk):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = uuids_in([pk])
        # What the reader may not see in the audit log is not there for them: a 404, not a
        # 403 that would say the change set exists.
        visible = changes_visible_to(request.user).filter(change_set_id__in=ids)
        change_set = ChangeSet.objects.filter(pk__in=ids).first() if visible.exists() else None
        if change_set is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        undo = change_set_revert(
            ctx=change_context(request),
            change_set=change_set,
            force=body.validated_data["force"],
        )
        undo.visible_changes = list(undo.changes.order_by("id"))  # the undoer made them all
        return Response(ChangeSetSerializer(undo).data, status=status.HTTP_201_CREATED)
