"""A tracking plan independent of any file format.

A field left at None is one the file did not say anything about: an import leaves that field
of the catalog as it is (a CSV has no markdown definition, Segment's rules have no owners).
An empty string or list is a value: it clears the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The catalog's data types (`catalog.models.DataType`), repeated here because this package
#: imports nothing of the catalog; a test keeps the two equal.
DATA_TYPES = ("string", "number", "integer", "boolean", "object", "array", "datetime", "null")


@dataclass
class PlanProperty:
    name: str
    type: str | None = None
    required: bool | None = None
    allowed_values: list[Any] | None = None
    pii: bool | None = None
    description: str | None = None
    definition: str | None = None
    examples: list[Any] | None = None
    verified: bool | None = None
    published: bool | None = None
    owners: list[str] | None = None
    tags: list[str] | None = None
    #: Where the property is in its file ("row 12", a JSON pointer...), for error messages.
    position: str = ""


@dataclass
class PlanEvent:
    name: str
    #: The integration's name; None takes the one the import was asked for.
    integration: str | None = None
    #: The category's title; "" means no category, None "as it is".
    category: str | None = None
    description: str | None = None
    definition: str | None = None
    pii: bool | None = None
    verified: bool | None = None
    published: bool | None = None
    owners: list[str] | None = None
    tags: list[str] | None = None
    properties: list[PlanProperty] = field(default_factory=list)
    position: str = ""


@dataclass
class Plan:
    events: list[PlanEvent] = field(default_factory=list)
    #: A name for the plan as a whole, where the format has one (Segment's and RudderStack's
    #: tracking plans); exports use the integration's name.
    name: str = ""


@dataclass
class PlanProblem:
    """One thing wrong with a file, and where it is."""

    position: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """For answers and terminals: a problem of the whole file is "file"."""
        return {"position": self.position or "file", "message": self.message}


class PlanFileError(Exception):
    """A file that can't be read as a tracking plan; nothing of it is applied."""

    def __init__(self, problems: list[PlanProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.position}: {p.message}" for p in problems))

    @classmethod
    def at(cls, position: str, message: str) -> PlanFileError:
        return cls([PlanProblem(position, message)])
