"""`{{ moment|ago }}`: how long ago, as a person says it ("just now", "3 hours ago"), for a
`<time>` element whose `datetime` and `title` give the exact moment."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The largest unit only ("2 days ago", not "2 days, 3 hours ago"); "just now" within a
    minute, or for a moment a little ahead of the server's clock; "" for None."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if moment > now - dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"
