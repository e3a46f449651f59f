"""The file formats of a tracking plan, by the name the API and `manage.py plan` use.

Each format is a module with `read(data: bytes) -> Plan` (raising `PlanFileError` with the
position of every problem) and `write(plan: Plan) -> bytes`, plus `MEDIA_TYPE` and
`EXTENSION`. What `write` gives, `read` takes back unchanged: export then import is a no-op.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from catalog.tracking_plan.model import Plan, PlanProblem

#: Format name -> module in this package.
FORMATS = {
    "csv": "spreadsheet",
    "json-schema": "json_schema",
    "segment": "segment",
    "rudderstack": "rudderstack",
}

#: Formats whose file holds one integration's plan and doesn't name it (the vendors' tracking
#: plans): an export of several integrations can't say which event is whose, and an import
#: is into the integration the caller names.
ONE_INTEGRATION = {"segment": "Segment", "rudderstack": "RudderStack"}


def plan_format(name: str) -> ModuleType:
    """The module of format `name`; KeyError if there is none."""
    return import_module(f"{__name__}.{FORMATS[name]}")


def read_plan(name: str, data: bytes) -> tuple[Plan, list[PlanProblem]]:
    """The plan in `data`, a file of format `name`, and notices of what the file held that
    the catalog skips (formats with nothing to skip have no `read_with_skipped`).
    PlanFileError with every problem's position if it can't be read, KeyError if there is
    no such format."""
    module = plan_format(name)
    reader = getattr(module, "read_with_skipped", None)
    if reader is not None:
        return reader(data)
    return module.read(data), []


def write_plan(name: str, plan: Plan) -> bytes:
    """`plan` as a file of format `name` (`plan_format(name).MEDIA_TYPE` says what it is)."""
    return plan_format(name).write(plan)


def several_integrations(name: str, plan: Plan) -> str | None:
    """Why `plan` can't be written in format `name` (a format of ONE_INTEGRATION, and events
    of several integrations), or None."""
    if name not in ONE_INTEGRATION:
        return None
    names = sorted({e.integration or "" for e in plan.events})
    if len(names) < 2:
        return None
    listed = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
    vendor = ONE_INTEGRATION[name]
    return (
        f"A {vendor} file holds the plan of one integration, and these events are of "
        f"{len(names)} ({listed}): export one integration at a time."
    )
