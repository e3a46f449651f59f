"""Reading and writing a plan by the format's name, as the API and `manage.py plan` do."""

import pytest

from catalog.tracking_plan.formats import (
    json_schema,
    plan_format,
    read_plan,
    rudderstack,
    segment,
    spreadsheet,
    write_plan,
)
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError


@pytest.mark.parametrize(
    ("name", "module", "media_type", "extension"),
    [
        ("csv", spreadsheet, "text/csv; charset=utf-8", "csv"),
        ("json-schema", json_schema, "application/json", "json"),
        ("segment", segment, "application/json", "json"),
        ("rudderstack", rudderstack, "application/yaml", "yaml"),
    ],
)
def test_each_format_is_its_module_by_name(name, module, media_type, extension):
    assert plan_format(name) is module
    assert (media_type, extension) == (module.MEDIA_TYPE, module.EXTENSION)


@pytest.mark.parametrize("name", ["csv", "json-schema"])
def test_a_plan_goes_out_and_back_by_format_name(name):
    plan = Plan(events=[PlanEvent(name="Signed Out", integration="web", category="")])

    [event] = read_plan(name, write_plan(name, plan))[0].events

    assert (event.name, event.integration, event.category) == ("Signed Out", "web", "")


def test_a_file_that_is_not_a_plan_says_why():
    with pytest.raises(PlanFileError) as caught:
        read_plan("json-schema", b"{")

    assert caught.value.problems[0].position == "line 1, column 2"


def test_an_unknown_format_is_a_key_error():
    with pytest.raises(KeyError):
        write_plan("excel", Plan())
