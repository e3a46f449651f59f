"""The history covers every object of the workspace, not only resources.

`ResourceChange` becomes `ObjectChange` (object type and id), a delete keeps the removed
object's whole state so that it can be undone, and a change set may say which one it undid.
Following is no longer an edit: subscriber changes leave the recorded diffs, and the history
rows (and change sets) that held nothing else go.
"""

import django.db.models.deletion
from django.db import migrations, models

OBJECT_TYPES = [
    ("event_category", "Event category"),
    ("event", "Event"),
    ("event_property", "Event property"),
    ("integration", "Integration"),
    ("collection", "Collection"),
    ("tag", "Tag"),
    ("team", "Team"),
    ("user_group", "Group"),
    ("user", "User"),
    ("custom_property", "Custom property"),
    ("api_key", "API key"),
    ("write_key", "Write key"),
]


def forget_follows(apps, schema_editor):
    """Take `subscribers` out of every recorded diff; drop what held nothing else."""
    ObjectChange = apps.get_model("catalog", "ObjectChange")
    ChangeSet = apps.get_model("catalog", "ChangeSet")
    rows = ObjectChange.objects.filter(diff__has_key="subscribers").only("id", "diff", "action")
    emptied, kept = [], []
    for change in rows.iterator(chunk_size=2000):
        diff = {k: v for k, v in change.diff.items() if k != "subscribers"}
        if not diff and change.action == "update":
            emptied.append(change.id)
        else:
            change.diff = diff
            kept.append(change)
        if len(kept) >= 2000:
            ObjectChange.objects.bulk_update(kept, ["diff"])
            kept = []
    ObjectChange.objects.bulk_update(kept, ["diff"], batch_size=2000)
    for start in range(0, len(emptied), 2000):
        ObjectChange.objects.filter(id__in=emptied[start : start + 2000]).delete()
    if emptied:
        ChangeSet.objects.filter(changes__isnull=True, notifications__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0015_text_limits"),
    ]

    operations = [
        migrations.RenameModel("ResourceChange", "ObjectChange"),
        migrations.RemoveIndex("objectchange", "change_resource_idx"),
        migrations.RenameField("objectchange", "resource_id", "object_id"),
        migrations.RenameField("objectchange", "entity_type", "object_type"),
        migrations.AddIndex(
            model_name="objectchange",
            index=models.Index(fields=["object_id", "-id"], name="change_object_idx"),
        ),
        migrations.AlterField(
            model_name="objectchange",
            name="object_type",
            field=models.CharField(choices=OBJECT_TYPES, max_length=32),
        ),
        migrations.AddField(
            model_name="objectchange",
            name="state",
            field=models.JSONField(
                blank=True,
                help_text="What a delete removed, as it was: enough to restore it.",
                null=True,
            ),
        ),
        migrations.AlterModelOptions(
            name="objectchange", options={"ordering": ["-id"], "verbose_name": "change"}
        ),
        migrations.AddIndex(
            model_name="objectchange",
            index=models.Index(fields=["object_type", "-id"], name="change_object_type_idx"),
        ),
        migrations.AddField(
            model_name="changeset",
            name="reverts",
            field=models.ForeignKey(
                blank=True,
                help_text="The change set this one undid.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reverted_by",
                to="catalog.changeset",
            ),
        ),
        migrations.RunPython(forget_follows, migrations.RunPython.noop, elidable=True),
    ]
