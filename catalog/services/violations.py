"""Violations as stewards handle them: marking one resolved.

Ingestion counts violations (`catalog.services.ingest`); a steward who fixed the tracker or
the plan marks one resolved, which records who and when on the violation. A resolved
violation that happens again reopens: ingestion clears the resolution in the same upsert that
adds to its count, so its count, first and last seen stay those of every occurrence.
"""

from django.db import transaction
from django.utils import timezone

from catalog.models import Violation
from catalog.policy import Action, ensure_for
from catalog.services.context import ChangeContext


def violation_resolve(*, ctx: ChangeContext, violation: Violation) -> Violation:
    """Mark `violation` resolved by the context's user, now (editors and admins).

    Returns the violation as stored. Resolving a resolved violation changes nothing (the
    first resolution stands). The row is locked while it is written, so a concurrent batch's
    reopening comes before or after it, never half-way. Raises `Violation.DoesNotExist` when
    it was deleted meanwhile.
    """
    ensure_for(ctx, Action.CHANGE, violation)
    with transaction.atomic():
        current = (
            Violation.objects.select_for_update(of=("self",))
            .select_related("resolved_by")
            .filter(pk=violation.pk)
            .first()
        )
        if current is None:
            raise Violation.DoesNotExist("This violation was deleted meanwhile.")
        if current.resolved_at is None:
            current.resolved_at = timezone.now()
            current.resolved_by = ctx.user
            current.save(update_fields=["resolved_at", "resolved_by"])
    return current
