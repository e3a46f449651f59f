"""Titles and names are normalised when they come in (catalog.models.titles); this puts the
ones stored before in the same form and reports those it must leave for a steward."""

import sys

from django.core.exceptions import ValidationError
from django.db import migrations

import catalog.models.titles


#: The models whose titles or names are kept in normal form.
NAMES = (
    ("Resource", "title"),
    ("Tag", "title"),
    ("Collection", "title"),
    ("Integration", "name"),
    ("Team", "name"),
    ("UserGroup", "name"),
    ("CustomProperty", "name"),
)


def _label(model, row) -> str:
    kind = row.get("entity_type") or model._meta.verbose_name
    return kind.replace("_", " ").capitalize()


def normalize_stored_names(apps, schema_editor=None, out=None) -> list[str]:
    """Put the titles and names stored before normalisation in normal form, where that leaves
    them unique; report the ones it can't: two that now read the same (a clash a steward must
    settle by renaming or merging), or one with characters titles may no longer hold.

    Renamed resources get a line in their history (source "Command"). Returns the report's
    lines, and prints them to `out` (standard output during `migrate`).
    """
    out = sys.stdout if out is None else out
    report: list[str] = []
    renamed_resources, renamed = [], 0
    for model_name, field in NAMES:
        model = apps.get_model("catalog", model_name)
        extra = ("parent_id", "integration_id", "entity_type") if model_name == "Resource" else ()
        pending = []
        for row in model.objects.values("pk", field, *extra).iterator(chunk_size=5000):
            try:
                normal = catalog.models.titles.clean_title(row[field])
            except ValidationError as error:
                report.append(f"{_label(model, row)} {row[field]!r} ({row['pk']}): "
                              f"{error.messages[0]} Rename it.")
                continue
            if normal != row[field]:
                pending.append((row, normal))
        for row, normal in pending:
            # Checked against the table as this loop leaves it: two stored titles that
            # normalise to the same one are a clash too.
            same = model.objects.filter(**{field: normal}).exclude(pk=row["pk"])
            if model_name == "Resource":
                same = same.filter(
                    **(
                        {"parent__isnull": True, "integration_id": row["integration_id"]}
                        if row["parent_id"] is None
                        else {"parent_id": row["parent_id"]}
                    )
                )
            if same.exists():
                label = _label(model, row)
                report.append(
                    f"{label} {row[field]!r} ({row['pk']}) reads the same as {normal!r}, "
                    "which its parent already has: rename or merge one of them."
                    if model_name == "Resource"
                    else f"{label} {row[field]!r} ({row['pk']}) reads the same as another, "
                    f"{normal!r}: rename one of them."
                )
                continue
            model.objects.filter(pk=row["pk"]).update(**{field: normal})
            renamed += 1
            if model_name == "Resource":
                renamed_resources.append((row, normal))
    if renamed_resources:
        _record(apps, renamed_resources)
    if report or renamed:
        print(f"\n  Titles and names put in normal form: {renamed}.", file=out)
        for line in report:
            print(f"  Left as it is: {line}", file=out)
    return report


def _record(apps, renamed) -> None:
    """One change set for the renames, as an operator's command would leave."""
    ChangeSet = apps.get_model("catalog", "ChangeSet")
    try:
        Change = apps.get_model("catalog", "ResourceChange")
        names = ("resource_id", "entity_type")
    except LookupError:  # called after 0016, which renamed it (as the tests do)
        Change = apps.get_model("catalog", "ObjectChange")
        names = ("object_id", "object_type")
    change_set = ChangeSet.objects.create(
        source="command", request_id="normalize-titles", actor_name="System"
    )
    Change.objects.bulk_create(
        Change(
            change_set=change_set,
            **dict(zip(names, (row["pk"], row["entity_type"]), strict=True)),
            title=normal[:255],
            action="update",
            diff={"title": [row["title"], normal]},
        )
        for row, normal in renamed
    )


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0012_pii_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='customproperty',
            name='name',
            field=catalog.models.titles.NameField(max_length=100, unique=True),
        ),
        migrations.AlterField(
            model_name='integration',
            name='name',
            field=catalog.models.titles.NameField(max_length=200, unique=True),
        ),
        migrations.AlterField(
            model_name='team',
            name='name',
            field=catalog.models.titles.NameField(max_length=200, unique=True),
        ),
        migrations.AlterField(
            model_name='usergroup',
            name='name',
            field=catalog.models.titles.NameField(max_length=200, unique=True),
        ),
        migrations.RunPython(normalize_stored_names, migrations.RunPython.noop, elidable=True),
    ]
