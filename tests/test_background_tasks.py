"""The default task backend (`TASKS_BACKEND=background`): tasks run on a thread of the process
that enqueues them, so whoever enqueues (a request) never waits for them.

The rest of the suite keeps django-tasks' immediate backend, so that a test sees the emails of
a change as soon as the change returns; these tests use the background one by its own alias.
"""

import logging
import threading
import uuid

import pytest
from django.db import connection, connections
from django_tasks import TaskResultStatus, task
from django_tasks.signals import task_finished

from catalog import background
from tests.processes import Output, manage, trial_env

#: Per test run of a task (by key): set when it starts, and the gate it waits at.
STARTED: dict[str, threading.Event] = {}
GATES: dict[str, threading.Event] = {}
#: What ran, in order: (key, thread name, whether its thread had a database connection open).
RAN: list[tuple[str, str, bool]] = []


@task()
def wait_at_the_gate(key: str) -> str:
    STARTED[key].set()
    assert GATES[key].wait(timeout=60), "the test never opened the gate"
    RAN.append((key, threading.current_thread().name, False))
    return f"{key} done"


@task()
def fail(message: str) -> None:
    raise ValueError(message)


@task()
def use_the_database(key: str) -> None:
    own = connections["default"]
    RAN.append((key, threading.current_thread().name, own.connection is not None))
    own.ensure_connection()


@pytest.fixture
def backend(settings):
    """A background backend of this test's own (its own queue and thread), beside the suite's
    immediate default; waits for its thread to finish after the test."""
    alias = f"background-{uuid.uuid4().hex[:8]}"
    settings.TASKS = {
        **settings.TASKS,
        alias: {"BACKEND": "catalog.background.BackgroundBackend", "OPTIONS": {"MAX_QUEUED": 1}},
    }
    RAN.clear()
    yield alias
    for gate in GATES.values():
        gate.set()
    background.worker(alias).finish()


def gated(key: str) -> threading.Event:
    STARTED[key], GATES[key] = threading.Event(), threading.Event()
    return GATES[key]


@pytest.fixture
def finished():
    """Results as they finish, by id: an event per task the test waits for."""
    events: dict[str, threading.Event] = {}

    def on_finished(sender, task_result, **kwargs):
        events.setdefault(task_result.id, threading.Event()).set()

    task_finished.connect(on_finished)

    def wait(result, seconds: float = 60) -> bool:
        return events.setdefault(result.id, threading.Event()).wait(timeout=seconds)

    yield wait
    task_finished.disconnect(on_finished)


def test_enqueue_returns_while_the_task_runs_on_the_thread(backend, finished):
    gate = gated("slow")

    result = wait_at_the_gate.using(backend=backend).enqueue("slow")

    # The caller has its answer, and the task is still at the gate on another thread.
    assert STARTED["slow"].wait(timeout=60)
    assert result.status == TaskResultStatus.RUNNING
    assert RAN == []
    gate.set()
    assert finished(result)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "slow done"
    [(key, thread, _)] = RAN
    assert key == "slow" and thread == f"tasks-{backend}"
    assert thread != threading.current_thread().name


def test_a_failing_task_is_logged_and_the_next_one_still_runs(backend, finished, caplog):
    caplog.set_level(logging.ERROR, logger="catalog.background")

    failed = fail.using(backend=backend).enqueue("the mail server is on fire")
    assert finished(failed)
    gated("next").set()
    after = wait_at_the_gate.using(backend=backend).enqueue("next")
    assert finished(after)

    assert failed.status == TaskResultStatus.FAILED
    assert after.status == TaskResultStatus.SUCCESSFUL
    [record] = [r for r in caplog.records if r.name == "catalog.background"]
    assert f"Background task {fail.module_path} failed" in record.getMessage()
    assert "ValueError: the mail server is on fire" in record.getMessage()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="Django never closes a connection to the in-memory test database (that would drop it)",
)
def test_the_thread_holds_no_database_connection_between_tasks(backend, finished):
    first = use_the_database.using(backend=backend).enqueue("first")
    assert finished(first)
    second = use_the_database.using(backend=backend).enqueue("second")
    assert finished(second)

    # Both on the same thread; the first opened a connection, the second found it closed.
    assert [(key, open_) for key, _, open_ in RAN] == [("first", False), ("second", False)]
    assert first.status == second.status == TaskResultStatus.SUCCESSFUL


def test_a_full_queue_leaves_the_task_out_with_a_warning(backend, finished, caplog):
    caplog.set_level(logging.WARNING, logger="catalog.background")
    running_gate, queued_gate = gated("running"), gated("queued")
    gated("left out")
    running = wait_at_the_gate.using(backend=backend).enqueue("running")
    assert STARTED["running"].wait(timeout=60)  # off the queue, at its gate

    queued = wait_at_the_gate.using(backend=backend).enqueue("queued")  # the one queue place
    left_out = wait_at_the_gate.using(backend=backend).enqueue("left out")

    [warning] = [r.getMessage() for r in caplog.records if r.name == "catalog.background"]
    assert warning == (
        "The background task queue is full (1 tasks waiting): task "
        f"{wait_at_the_gate.module_path} was not run. Notifications stay in the outbox for "
        "`manage.py send_notifications`."
    )
    running_gate.set()
    queued_gate.set()
    assert finished(running) and finished(queued)
    background.worker(backend).finish()
    assert [key for key, _, _ in RAN] == ["running", "queued"]
    assert left_out.status == TaskResultStatus.READY


def test_a_command_finishes_the_tasks_it_queued_before_it_exits(tmp_path):
    """`purge_event_log --enqueue` with the default backend: the purge runs on the thread, and
    the process waits for it instead of exiting with the task half done."""
    env = trial_env(tmp_path)
    migrated = Output(manage("migrate", "-v", "0", env=env))
    assert migrated.finish() == "" and migrated.process.returncode == 0

    command = Output(manage("purge_event_log", "--enqueue", env=env))
    output = command.finish()

    assert command.process.returncode == 0, output
    assert "Enqueued the event log purge task" in output
    assert "path=catalog.tasks.purge_event_log_task state=SUCCESSFUL" in output, output
