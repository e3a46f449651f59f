"""The emails: one per notification row, or one digest per recipient, from the history rows.

Everything an email says comes from the change set and its object changes (snapshots of the
actor's name, the resource's kind and title, and `{field: [old, new]}` diffs), so an email about
a deleted resource, or one sent days later by a retry, reads the same. Text and HTML parts come
from `templates/emails/`; values are escaped, and Markdown is shown as a line diff of its
source, never rendered, so no HTML from a definition reaches the email.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import dateformat, timezone

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    ChangeAction,
    ChangeSet,
    Notification,
    ObjectChange,
    ObjectType,
    Resource,
    User,
)
from catalog.policy import Visibility
from catalog.selectors import hide_unseen_labels

from .linediff import line_diff, shared_budget
from .links import object_url, unsubscribe_url

SUBJECT_PREFIX = "[Event Catalog]"
#: Fields holding prose (Markdown): shown as a line diff, not as old → new.
TEXT_FIELDS = ("description", "definition")
#: At most this many resources are described per change set; the rest are counted.
MAX_RESOURCES = 25
EMPTY = "(empty)"


@dataclass
class FieldChange:
    """One changed field of one resource, ready to print."""

    name: str
    label: str
    old: str = ""
    new: str = ""
    #: M2M fields: labels added and removed.
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Text fields: (marker, line) pairs; marker is " ", "-", "+" or "…" (skipped lines).
    diff: list[tuple[str, str]] = field(default_factory=list)
    diff_cut: int = 0
    #: Text fields too different to diff at a bounded cost: their sizes before and after.
    diff_summary: str = ""

    @property
    def is_relation(self) -> bool:
        return self.name in M2M_FIELDS

    @property
    def is_text(self) -> bool:
        return self.name in TEXT_FIELDS


@dataclass
class ChangedResource:
    kind: str
    title: str
    action: str
    verb: str
    url: str | None
    fields: list[FieldChange]


@dataclass
class ChangeSetSummary:
    """A change set as the templates show it."""

    actor: str
    api_key_name: str
    source: str
    when: str
    resources: list[ChangedResource]
    more: int
    phrase: str


def one_line(text: str) -> str:
    """Titles go into subject headers, where a newline would be refused."""
    return " ".join(str(text).split())


def kind_label(object_type: str) -> str:
    try:
        return ObjectType(object_type).label
    except ValueError:
        return object_type.replace("_", " ").capitalize()


def verb(action: str) -> str:
    try:
        return ChangeAction(action).label.lower()
    except ValueError:
        return "changed"


def format_when(moment) -> str:
    """A readable time in the site's time zone, such as "Tue 4 Mar 2025, 14:05 CET"."""
    local = timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))
    return dateformat.format(local, "D j M Y, H:i T")


def _model_field(name: str):
    try:
        return Resource._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(name: str) -> str:
    model_field = _model_field(name)
    label = str(model_field.verbose_name) if model_field is not None else name.replace("_", " ")
    return label if label.isupper() else label[:1].upper() + label[1:]


def display_value(name: str, value) -> str:
    """A stored diff value as a person reads it: Yes/No, a parent's label, a choice's label."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return str(value.get("label") or value.get("id") or EMPTY)
    if isinstance(value, list):
        return ", ".join(
            item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            for item in value
        )
    model_field = _model_field(name)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _labels(items) -> dict[str, str]:
    labels = {}
    for item in items or []:
        if isinstance(item, dict):
            labels[str(item.get("id"))] = str(item.get("label") or item.get("id"))
        else:
            labels[str(item)] = str(item)
    return labels


def field_change(name: str, old, new) -> FieldChange:
    change = FieldChange(name=name, label=field_label(name))
    if name in M2M_FIELDS:
        before, after = _labels(old), _labels(new)
        change.added = [label for key, label in after.items() if key not in before]
        change.removed = [label for key, label in before.items() if key not in after]
    elif name in TEXT_FIELDS:
        diff = line_diff(old, new)
        change.diff, change.diff_cut, change.diff_summary = diff.lines, diff.cut, diff.summary
    change.old, change.new = display_value(name, old), display_value(name, new)
    return change


def _field_order(entity_type: str) -> dict[str, int]:
    return {name: index for index, name in enumerate(EDITABLE_FIELDS.get(entity_type, ()))}


def changed_resource(change: ObjectChange, only: Iterable[str] | None = None) -> ChangedResource:
    """One resource's part of an email; `only` the given fields of its diff, when given."""
    order = _field_order(change.object_type)
    diff = change.diff if isinstance(change.diff, dict) else {}
    if only is not None:
        diff = {name: value for name, value in diff.items() if name in set(only)}
    names = sorted(diff, key=lambda name: (order.get(name, len(order)), name))
    fields = []
    for name in names:
        pair = diff[name]
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        fields.append(field_change(name, old, new))
    return ChangedResource(
        kind=kind_label(change.object_type),
        title=one_line(change.title),
        action=change.action,
        verb=verb(change.action),
        url=None
        if change.action == ChangeAction.DELETE
        else object_url(change.object_type, change.object_id),
        fields=fields,
    )


def ordered_changes(changes: Iterable[ObjectChange], followed: Iterable = ()) -> list:
    """The resources the reader follows first, then in the order they were changed."""
    followed = {str(pk) for pk in followed}
    return sorted(changes, key=lambda c: (str(c.object_id) not in followed, c.id))


def phrase(changes: Sequence[ObjectChange]) -> str:
    """`Event "Order Completed" changed`, or `... and 2 more changed` for several resources."""
    if not changes:
        return "The catalog changed"
    first = changes[0]
    what = f'{kind_label(first.object_type)} "{one_line(first.title)}"'
    if len(changes) > 1:
        what += f" and {len(changes) - 1} more"
    actions = {change.action for change in changes}
    return f"{what} {verb(first.action) if len(actions) == 1 else 'changed'}"


def summarize(
    change_set: ChangeSet, followed: Iterable = (), shown: Iterable | None = None
) -> ChangeSetSummary:
    """What the change set changed, for one reader.

    `shown` is given for viewers: the resources they may read of (an id), or of which only
    some fields (`{"id", "fields"}`: a resource they see appear or disappear reads only as
    published or unpublished), and the titles of parents and collections they may not see
    are hidden (`hide_unseen_labels`).
    """
    changes = list(change_set.changes.all())
    only: dict[str, list | None] = {}
    if shown is not None:
        for item in shown:
            if isinstance(item, dict):
                only[str(item.get("id"))] = list(item.get("fields") or ())
            else:
                only[str(item)] = None
        changes = [change for change in changes if str(change.object_id) in only]
        hide_unseen_labels(Visibility.PUBLISHED, changes)
    changes = ordered_changes(changes, followed)
    with shared_budget():
        resources = [
            changed_resource(change, only.get(str(change.object_id)))
            for change in changes[:MAX_RESOURCES]
        ]
    return ChangeSetSummary(
        actor=change_set.actor_name or "Someone",
        api_key_name=change_set.api_key_name,
        source=change_set.get_source_display(),
        when=format_when(change_set.created_at),
        resources=resources,
        more=max(0, len(changes) - MAX_RESOURCES),
        phrase=phrase(changes),
    )


def tidy(text: str) -> str:
    """Templates leave stray blank lines and trailing spaces; a plain-text email shouldn't."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _message(
    *, recipient: User, subject: str, template: str, context: dict, followed: list
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(recipient.pk, followed) if followed else None
    context = {**context, "recipient": recipient, "unsubscribe_url": unsubscribe}
    context["site_url"] = settings.SITE_URL
    headers = {"Auto-Submitted": "auto-generated"}
    if unsubscribe:
        # RFC 8058: mail clients show an unsubscribe button that POSTs this body to the URL.
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=subject,
        body=tidy(render_to_string(f"emails/{template}.txt", context)),
        to=[recipient.email],
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def change_email(
    notification: Notification, *, summaries: dict | None = None
) -> EmailMultiAlternatives:
    """The email of one notification row: what its change set changed.

    `summaries` lets a sender reuse one summary (its diffs rendered once) for every recipient
    of a change set who follows the same resources.
    """
    shown = notification.shown
    key = (
        notification.change_set_id,
        tuple(sorted(map(str, notification.followed or []))),
        None if shown is None else json.dumps(shown, sort_keys=True),
    )
    summary = summaries.get(key) if summaries is not None else None
    if summary is None:
        summary = summarize(notification.change_set, notification.followed, shown)
        if summaries is not None:
            summaries[key] = summary
    return _message(
        recipient=notification.recipient,
        subject=f"{SUBJECT_PREFIX} {summary.phrase}",
        template="change",
        context={"change_set": summary},
        followed=list(notification.followed or []),
    )


def digest_email(
    recipient: User, notifications: Sequence[Notification], *, more: int = 0
) -> EmailMultiAlternatives:
    """One email listing the change sets of several digest rows, oldest first; `more` counts
    the change sets left out of a very long digest."""
    rows = sorted(notifications, key=lambda n: (n.change_set.created_at, n.change_set_id))
    followed: list[str] = []
    for row in rows:
        followed.extend(str(pk) for pk in row.followed or [] if str(pk) not in followed)
    with shared_budget():  # one budget for the diffs of the whole digest
        summaries = [summarize(row.change_set, row.followed, row.shown) for row in rows]
    count = len(summaries) + more
    return _message(
        recipient=recipient,
        subject=f"{SUBJECT_PREFIX} Daily digest: {count} change{'s' if count != 1 else ''}",
        template="digest",
        context={"change_sets": summaries, "more": more, "total": count},
        followed=followed,
    )
