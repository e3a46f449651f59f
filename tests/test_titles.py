"""Titles and names that look the same are the same: normalised wherever they come in."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Value

from catalog.models import ChangeSet, ObjectChange, Resource, Tag
from catalog.models.titles import clean_title
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    TagFactory,
)

CONTROL = "Titles and names can't contain control characters or text-direction controls"
INVISIBLE = (
    "A title or name needs a visible character; this one is only spaces or invisible characters."
)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Signed In", "Signed In"),
        ("Signed In ", "Signed In"),
        ("  Signed   In\t", "Signed In"),
        ("Signed\u00a0In", "Signed In"),  # no-break space
        ("Signed\u3000In", "Signed In"),  # ideographic space
        ("Sign\u200bed In", "Signed In"),  # zero-width space
        ("\ufeffSigned In", "Signed In"),  # byte-order mark
        ("Signed In\u200d", "Signed In"),  # a joiner at the end joins nothing
        ("Cafe\u0301", "Caf\u00e9"),  # NFD becomes NFC
        ("Signed\nIn", "Signed In"),
        ("\U0001f468\u200d\U0001f469 Family", "\U0001f468\u200d\U0001f469 Family"),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        ),
    ],
)
def test_titles_are_kept_in_one_form(given, kept):
    assert clean_title(given) == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("Signed\u202eIn", f"{CONTROL} (found U+202E)."),  # right-to-left override
        ("\u2066Signed In\u2069", f"{CONTROL} (found U+2066)."),
        ("Signed\x00In", f"{CONTROL} (found U+0000)."),
        ("Signed\x1b[31mIn", f"{CONTROL} (found U+001B)."),
        ("Signed\x7fIn", f"{CONTROL} (found U+007F)."),
        ("\u200b", INVISIBLE),
        ("\u200b \u00a0\ufeff", INVISIBLE),
        (" ", INVISIBLE),
    ],
)
def test_control_characters_and_invisible_titles_are_refused(given, message):
    with pytest.raises(ValidationError) as refused:
        clean_title(given)
    assert refused.value.messages == [message]


@pytest.mark.django_db
def test_the_edit_page_saves_the_normal_form(client, editor):
    event = EventFactory(title="Signed In")
    client.force_login(editor)
    form = {"title": "Signed\u00a0Up\u200b", "description": "", "definition": ""}
    response = client.post(f"/resources/{event.pk}/edit/", form)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Signed Up"
    response = client.post(f"/resources/{event.pk}/edit/", {**form, "title": "\u200b"})
    assert INVISIBLE in response.content.decode()


@pytest.mark.django_db
def test_the_migration_normalises_stored_titles_and_reports_clashes():
    category = EventCategoryFactory(title="Onboarding")
    Resource.objects.filter(pk=category.pk).update(title=Value("Onboarding\u00a0"))
    kept = EventFactory(parent=category, title="Signed In")
    clash = EventFactory(parent=category, title="Signed Up")
    Resource.objects.filter(pk=clash.pk).update(title=Value("Signed In "))
    broken = TagFactory(title="beta")
    Tag.objects.filter(pk=broken.pk).update(title=Value("be\u202eta"))
    migration = importlib.import_module("catalog.migrations.0013_normalized_names")

    out = io.StringIO()
    report = migration.normalize_stored_names(apps, out=out)

    category.refresh_from_db()
    clash.refresh_from_db()
    assert category.title == "Onboarding"
    assert clash.title == "Signed In "  # left for a steward
    assert report == [
        f"Event 'Signed In ' ({clash.pk}) reads the same as 'Signed In', which its parent "
        "already has: rename or merge one of them.",
        f"Tag 'be\\u202eta' ({broken.pk}): {CONTROL} (found U+202E). Rename it.",
    ]
    assert "Titles and names put in normal form: 1." in out.getvalue()
    assert "Left as it is: Event 'Signed In '" in out.getvalue()
    change = ObjectChange.objects.get()
    assert (change.object_id, change.diff) == (
        category.pk,
        {"title": ["Onboarding\u00a0", "Onboarding"]},
    )
    assert change.change_set.source == "command"
    assert ChangeSet.objects.count() == 1
    assert kept.title == "Signed In"
