"""Plan imports that run in the background: a file too large for one request waits here for
its task, and the answer waits here for its requester."""

import uuid

from django.conf import settings
from django.db import models


class PlanImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PlanImport(models.Model):
    """A plan file to import (`POST /api/v1/plan/import` past PLAN_IMPORT_SYNC_MAX_BYTES),
    and once run its diff or its problems (`GET /api/v1/plan/imports/{id}`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_imports"
    )
    api_key = models.ForeignKey(
        "catalog.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16)
    request_id = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=32)
    mode = models.CharField(max_length=8)
    dry_run = models.BooleanField(default=False, help_text="Only compare: change nothing.")
    integration = models.ForeignKey(
        "catalog.Integration", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    size = models.PositiveBigIntegerField(help_text="The file's size in bytes.")
    #: Emptied once the import has run: the diff is what stays.
    file = models.BinaryField(blank=True)
    status = models.CharField(
        max_length=8, choices=PlanImportStatus.choices, default=PlanImportStatus.QUEUED
    )
    #: How far it got: {"phase": "reading" | "applying" | "done" | "failed"}, with the counts
    #: of events and properties once the file is read.
    progress = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: What the import changed (the synchronous answer), once done.
    result = models.JSONField(null=True, blank=True)
    #: Why it failed: problems with their positions, or a refusal's message.
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.format} import of {self.created_at:%Y-%m-%d %H:%M}"
