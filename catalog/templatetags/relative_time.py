"""`{{ moment|ago }}`: times as people say them ("3 hours ago", "just now"), one unit only; the
exact time goes in the `<time>` element's `datetime` and `title` (see catalog/_ago.html)."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """ "3 hours ago", "2 days ago", "just now" (under a minute, or a clock ahead of ours);
    "" for None. One unit only: the exact time goes in the element's title."""
    if value is None:
        return ""
    now = now or timezone.now()
    if value >= now - dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now, depth=1)} ago".replace("\xa0", " ")
