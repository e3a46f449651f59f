"""Small daily charts drawn on the server as inline SVG: no script, no request to another
host, readable by a screen reader through the label (the numbers are always beside them)."""

import datetime as dt

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

#: Each day's bar: its width and the gap after it, in SVG units.
_BAR, _GAP = 3, 1


@register.simple_tag
def daily_chart(counts, *, last_day: dt.date | None = None, label: str = "", height: int = 24):
    """A bar per day of `counts` (oldest first, ending `last_day`, today by default).

    The chart is an image named by its numbers: total, busiest day and the days it covers,
    so it says the same to a screen reader as to the eye. Each bar has a tooltip (its
    date and count). Days with no arrivals draw a baseline tick, so a gap reads as zero.
    """
    counts = [int(count or 0) for count in counts]
    if not counts:
        return ""
    last_day = last_day or dt.datetime.now(dt.UTC).date()
    first_day = last_day - dt.timedelta(days=len(counts) - 1)
    peak = max(counts)
    total = sum(counts)
    width = len(counts) * (_BAR + _GAP) - _GAP
    bars = []
    for index, count in enumerate(counts):
        day = first_day + dt.timedelta(days=index)
        bar_height = max(1, round(count / peak * height)) if count else 1
        bars.append(
            (
                index * (_BAR + _GAP),
                height - bar_height,
                _BAR,
                bar_height,
                "bar" if count else "bar zero",
                f"{day:%b} {day.day}: {count:,}",
            )
        )
    name = f"{label}: " if label else ""
    if total:
        busiest = first_day + dt.timedelta(days=counts.index(peak))
        name += (
            f"{total:,} in {len(counts)} days, at most {peak:,} a day ({busiest:%b} {busiest.day})"
        )
    else:
        name += f"none in {len(counts)} days"
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="{}"><title>{}</title></rect>',
        bars,
    )
    return format_html(
        '<svg class="daily-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}" preserveAspectRatio="none" focusable="false">{}</svg>',
        name,
        width,
        height,
        width,
        height,
        body,
    )
