"""Placeholder replaced by the delivery implementation."""

from django_tasks import task


@task()
def deliver_notifications(change_set_id: str | None = None) -> None:
    return None
