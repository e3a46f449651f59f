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
