"""`POST /api/v1/violations/{id}/resolve`: mark a violation resolved (see
`catalog.services.violations`); it reopens if it happens again."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from catalog.api.serializers import ErrorSerializer, ViolationSerializer
from catalog.api.views import change_context, may_read_violations
from catalog.models import Violation
from catalog.services.violations import violation_resolve


class ViolationResolveView(GenericAPIView):
    """Mark a violation resolved by the caller, now: who and when are kept on it
    (`resolved_by_id`, `resolved_at`). Resolving a resolved violation changes nothing. When the
    violation happens again, ingestion reopens it (both fields become null) and keeps counting.
    Editors and admins."""

    serializer_class = ViolationSerializer
    queryset = Violation.objects.all()  # documents the id's type
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="violations_resolve",
        summary="Resolve a violation",
        tags=["Workspace"],
        request=None,
        responses={
            200: ViolationSerializer,
            **{code: ErrorSerializer for code in (401, 403, 404)},
        },
    )
    def post(self, request, pk):
        may_read_violations(request)
        violation = Violation.objects.filter(pk=pk).first() if pk.isdigit() else None
        if violation is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        try:
            violation = violation_resolve(ctx=change_context(request), violation=violation)
        except Violation.DoesNotExist:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(ViolationSerializer(violation).data)
