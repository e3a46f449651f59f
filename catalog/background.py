"""A django-tasks backend that runs tasks on a background thread of the process that enqueues
them: `TASKS_BACKEND=background`, the default.

Why: a change enqueues the delivery of its emails once it commits. Django-tasks' immediate
backend ran that delivery inside the request, so a slow mail server held the request for
subscribers x EMAIL_TIMEOUT, past the proxy's or gunicorn's timeout: the client saw a failure
for a write that had succeeded. Here the request only puts the task on a queue.

- One thread per process (started on the first enqueue, so in each gunicorn worker after the
  fork, never in a master that preloads the app), taking tasks in order from a queue of at most
  MAX_QUEUED. When the queue is full a task is not run, with a warning: a delivery's outbox rows
  stay pending and `manage.py send_notifications` (cron) sends them.
- The thread closes its database connections after each task: an idle thread holds none.
- A task that fails is logged with its traceback; the thread goes on with the next one.
- At exit the process finishes what is queued (CONTROL-C stops the wait). A process killed
  before that only delays emails: the outbox row, not the queue, is the truth.

Nothing runs later (no `run_after`): retries and the daily purge come from cron, as documented
in docs/NOTIFICATIONS.md. For a queue that outlives processes, use `TASKS_BACKEND=database`.
"""

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable
from functools import partial

from django.db import connections
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import TaskResult, TaskResultStatus

logger = logging.getLogger(__name__)

#: Tasks that may wait for the thread at once, per process.
MAX_QUEUED = 1000


class BackgroundBackend(ImmediateBackend):
    """Django-tasks' immediate backend, run on `Worker`'s thread instead of the caller's."""

    supports_defer = False
    supports_get_result = False
    supports_priority = False  # One queue, first in, first out.

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.max_queued = int(self.options.get("MAX_QUEUED", MAX_QUEUED))

    def _execute_task(self, task_result: TaskResult) -> None:
        # ImmediateBackend.enqueue builds the result and calls this to run it: here it is
        # handed to the thread, and enqueue returns at once (the result still READY).
        run = partial(self._run, task_result)
        if not worker(self.alias, self.max_queued).submit(run):
            logger.warning(
                "The background task queue is full (%d tasks waiting): task %s was not run. "
                "Notifications stay in the outbox for `manage.py send_notifications`.",
                self.max_queued,
                task_result.task.module_path,
            )

    def _run(self, task_result: TaskResult) -> None:
        super()._execute_task(task_result)
        if task_result.status == TaskResultStatus.FAILED:
            logger.error(
                "Background task %s failed:\n%s",
                task_result.task.module_path,
                task_result.errors[-1].traceback if task_result.errors else "",
            )


class Worker:
    """A bounded queue and the daemon thread that runs what is put on it."""

    def __init__(self, name: str, max_queued: int) -> None:
        self.name = name
        self.queue: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=max_queued)
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)
        self.thread.start()

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue `job`; False (and nothing queued) when the queue is full."""
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            return False
        return True

    def _work(self) -> None:
        while True:
            job = self.queue.get()
            try:
                job()
            except Exception:
                logger.exception("A background task could not be run")
            finally:
                connections.close_all()
                self.queue.task_done()

    def finish(self) -> None:
        """Wait until everything queued has run."""
        self.queue.join()


_workers: dict[str, Worker] = {}
_workers_lock = threading.Lock()


def worker(alias: str, max_queued: int = MAX_QUEUED) -> Worker:
    """This process's worker for the backend `alias`, started on first use."""
    with _workers_lock:
        if alias not in _workers:
            _workers[alias] = Worker(f"tasks-{alias}", max_queued)
        return _workers[alias]


def _forget_workers() -> None:
    """In a forked child: the parent's threads did not come along (nor may its lock be free);
    the child starts its own worker when it first enqueues."""
    global _workers_lock
    _workers_lock = threading.Lock()
    _workers.clear()


def finish_queued_tasks() -> None:
    """At exit: run what is still queued, unless CONTROL-C says not to wait."""
    with _workers_lock:
        workers = list(_workers.values())
    waiting = sum(w.queue.unfinished_tasks for w in workers)
    if not waiting:
        return
    logger.info("Finishing %d background task(s) before exiting (CONTROL-C: don't wait)", waiting)
    try:
        for w in workers:
            w.finish()
    except KeyboardInterrupt:
        left = sum(w.queue.unfinished_tasks for w in workers)
        logger.warning(
            "Exiting with %d background task(s) not finished; the outbox keeps their "
            "notifications for `manage.py send_notifications`.",
            left,
        )


os.register_at_fork(after_in_child=_forget_workers)
atexit.register(finish_queued_tasks)
