"""Template filters that show a change's diff the way a person reads it."""

from django import template

from catalog.models import Resource
from catalog.notifications.emails import TEXT_FIELDS, field_label
from catalog.notifications.linediff import line_diff

register = template.Library()


@register.filter
def change_value(value) -> str:
    """A diff value as text: Yes/No, labels of related objects, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, list):
        return ", ".join(change_value(item) for item in value)
    return str(value)


@register.filter
def change_rows(diff: dict) -> list[tuple[str, str, str, list[str] | None, str]]:
    """(field label, old, new, line diff, summary) for each changed field, in the model's
    field order.

    Multi-line text (a Markdown definition) gets a line diff, as in the emails, instead of
    two walls of text; other fields get None there. Texts too different to compare at a
    bounded cost get a summary of their sizes instead (see `line_diff`).
    """
    order = {f.name: i for i, f in enumerate(Resource._meta.get_fields())}
    rows = []
    for name, (old, new) in sorted(diff.items(), key=lambda item: order.get(item[0], 99)):
        lines, summary = None, ""
        multiline = any("\n" in (value or "") for value in (old, new) if isinstance(value, str))
        if name in TEXT_FIELDS and old and new and multiline:
            text = line_diff(old, new)
            lines = [f"{sign} {line}".rstrip() for sign, line in text.lines]
            if text.cut:
                lines.append(f"… and {text.cut} more line{'s' if text.cut > 1 else ''}")
            summary = text.summary
        rows.append((field_label(name), change_value(old), change_value(new), lines, summary))
    return rows
