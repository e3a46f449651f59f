"""Reading and writing a plan by the format's name, as the API and `manage.py plan` do."""

import pytest

from catalog.tracking_plan.formats import read_plan, write_plan
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError


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
