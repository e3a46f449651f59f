"""The inline daily charts: one bar per day, named by their numbers."""

import datetime as dt

import pytest

from catalog.models import DailyVolume
from catalog.selectors import daily_volumes_of
from catalog.templatetags.charts import daily_chart
from tests.factories import EventFactory


def test_chart_names_its_numbers_and_draws_a_bar_per_day():
    svg = daily_chart([0, 3, 12, 0], last_day=dt.date(2026, 3, 4), label="Last 4 days")
    assert svg.count("<rect") == 4
    assert 'role="img"' in svg
    assert 'aria-label="Last 4 days: 15 in 4 days, at most 12 a day (Mar 3)"' in svg
    assert "<title>Mar 2: 3</title>" in svg
    # The busiest day is full height; an empty day is a 1-unit tick in the muted colour.
    assert 'y="0" width="3" height="24" class="bar"' in svg
    assert 'height="1" class="bar zero"' in svg


def test_a_chart_without_arrivals_says_so():
    svg = daily_chart([0] * 30, last_day=dt.date(2026, 3, 30))
    assert 'aria-label="none in 30 days"' in svg


def test_labels_are_escaped():
    assert "&lt;b&gt;" in daily_chart([1], label="<b>")


@pytest.mark.django_db
def test_daily_volumes_of_fills_every_day_in_one_query(django_assert_num_queries):
    today = dt.date(2026, 3, 30)
    seen, unseen = EventFactory(), EventFactory()
    DailyVolume.objects.create(resource=seen, day=today, count=5)
    DailyVolume.objects.create(resource=seen, day=today - dt.timedelta(days=29), count=2)
    DailyVolume.objects.create(resource=seen, day=today - dt.timedelta(days=30), count=99)
    with django_assert_num_queries(1):
        series = daily_volumes_of([seen.pk, unseen.pk], days=30, today=today)
    assert series[seen.pk] == [2] + [0] * 28 + [5]
    assert series[unseen.pk] == [0] * 30
