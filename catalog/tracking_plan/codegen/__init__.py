"""Typed code from a tracking plan: one function per event around a Segment-compatible `track`.

Each language is a module with `generate(plan: Plan) -> str`, `MEDIA_TYPE` and `FILENAME`.
The output depends only on the plan (same plan, same text) and keeps the plan's event order.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from catalog.tracking_plan.model import Plan

#: Language name (as the API and `manage.py plan codegen --language` spell it) -> module.
LANGUAGES = {
    "typescript": "typescript",
    "python": "python",
}


def codegen_language(name: str) -> ModuleType:
    """The module of language `name`; KeyError if there is none."""
    return import_module(f"{__name__}.{LANGUAGES[name]}")


def generate(language: str, plan: Plan) -> str:
    """The source code of `plan` in `language`; KeyError for a language we don't write."""
    return codegen_language(language).generate(plan)
