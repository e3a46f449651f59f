"""Sample calls for checking against the plan (`plan check`): a JSON list of
`{"event": ..., "properties": {...}}`, or `{"samples": [...]}` holding one."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from catalog.tracking_plan.model import PlanFileError, PlanProblem

#: The most samples one check takes.
MAX_SAMPLES = 10_000


@dataclass
class Sample:
    """One call a tracker would make."""

    event: str
    properties: dict[str, Any]
    #: A JSON pointer to it in its file.
    position: str = ""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is out of range")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def samples_from(data: bytes) -> list[Sample]:
    """The samples in a JSON file; PlanFileError names the position of what is wrong."""
    try:
        document = json.loads(
            data.decode("utf-8-sig"), parse_float=_finite, parse_constant=_no_constant
        )
    except UnicodeDecodeError as error:
        raise PlanFileError.at(f"byte {error.start}", "The file is not UTF-8 text.") from None
    except RecursionError:
        raise PlanFileError.at("file", "The JSON nests too deeply.") from None
    except ValueError as error:
        raise PlanFileError.at("file", f"The file is not JSON: {error}.") from None
    pointer = ""
    if isinstance(document, dict) and "samples" in document:
        document, pointer = document["samples"], "/samples"
    if not isinstance(document, list):
        raise PlanFileError.at(
            pointer or "/", 'Send a list of samples: [{"event": "Name", "properties": {...}}].'
        )
    if len(document) > MAX_SAMPLES:
        raise PlanFileError.at(pointer or "/", f"At most {MAX_SAMPLES:,} samples at once.")
    samples, problems = [], []
    for index, item in enumerate(document):
        position = f"{pointer}/{index}"
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            problems.append(
                PlanProblem(position, 'A sample is {"event": "Name", "properties": {}}.')
            )
            continue
        properties = item.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            problems.append(PlanProblem(f"{position}/properties", "Properties are a JSON object."))
            continue
        if "\\u0000" in json.dumps(item):  # as JSON writes it: found wherever it is
            problems.append(PlanProblem(position, "Text can't contain NUL characters."))
            continue
        samples.append(Sample(item["event"], properties, position))
    if problems:
        raise PlanFileError(problems[:100])
    return samples
