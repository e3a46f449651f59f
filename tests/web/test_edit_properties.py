"""The edit page's property schema (data type, required, allowed values, examples) and an
event's category, saved through the pipeline like the rest of the form."""

import html
import json
import re

import pytest
from django.urls import reverse

from catalog.models import ChangeSource, ObjectChange, Resource
from catalog.web.value_lists import parse_values, show_values
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)
from tests.web.test_editing import edit_url, form_data
from tests.web.test_pages import text_of as raw_text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def revenue(order_completed):
    return Resource.objects.get(parent=order_completed, title="revenue")


def text_of(response) -> str:
    """The page's text as a reader sees it (entities such as &#x27; read as characters)."""
    return html.unescape(raw_text_of(response))


def property_data(prop, **changes) -> dict:
    """What the browser posts for a property's form as loaded, plus `changes`."""
    data = form_data(
        prop,
        data_type=prop.data_type,
        allowed_values=show_values(prop.allowed_values, prop.data_type),
        examples=show_values(prop.examples, prop.data_type),
    )
    if prop.required:
        data["required"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert found, name
    return found.group(1)


def test_a_property_shows_its_schema_fields(editor_web, revenue):
    Resource.objects.filter(pk=revenue.pk).update(allowed_values=[9.99, 19], examples=[5])
    html = editor_web.get(edit_url(revenue)).content.decode()
    for label in ("Data type", "Required", "Allowed values", "Examples"):
        assert re.search(rf'<label for="id_\w+">{label}</label>', html), label
    assert '<option value="number" selected>Number</option>' in html
    assert re.search(r'<input type="checkbox" name="required"[^>]* checked>', html)
    assert textarea(html, "allowed_values") == "9.99\n19"
    assert textarea(html, "examples") == "5"
    assert "Property schema" in text_of(editor_web.get(edit_url(revenue)))


def test_events_and_categories_have_no_schema_fields(editor_web, order_completed):
    html = editor_web.get(edit_url(order_completed)).content.decode()
    assert 'name="data_type"' not in html and 'name="allowed_values"' not in html
    category = editor_web.get(edit_url(order_completed.parent)).content.decode()
    assert 'name="parent"' not in category and 'name="data_type"' not in category


def test_schema_fields_are_saved_typed_and_recorded(editor_web, editor, revenue):
    response = editor_web.post(
        edit_url(revenue),
        property_data(
            revenue,
            data_type="integer",
            required=None,
            allowed_values="10\n 20 \n\n-3\n",
            examples="[10, 20]",
        ),
    )
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert revenue.data_type == "integer"
    assert revenue.required is False
    assert revenue.allowed_values == [10, 20, -3]
    assert revenue.examples == [10, 20]
    change = ObjectChange.objects.get(object_id=revenue.pk)
    assert change.diff == {
        "data_type": ["number", "integer"],
        "required": [True, False],
        "allowed_values": [None, [10, 20, -3]],
        "examples": [None, [10, 20]],
    }
    assert change.change_set.source == ChangeSource.WEB
    assert change.change_set.actor == editor
    history = text_of(editor_web.get(reverse("web:resource_history", args=[revenue.pk])))
    assert "Allowed values" in history and "Data type" in history


@pytest.mark.parametrize(
    ("data_type", "text", "stored"),
    [
        ("string", "gold\nsilver\n", ["gold", "silver"]),
        ("number", "1\n2.5\n-1e3", [1, 2.5, -1000.0]),
        ("boolean", "true\nNo", [True, False]),
        ("datetime", "2026-01-31T09:30:00Z", ["2026-01-31T09:30:00Z"]),
        ("object", '{"id": 1}\n{"id": 2}', [{"id": 1}, {"id": 2}]),
        ("array", "[1, 2]\n[3]", [[1, 2], [3]]),  # a list per line
        ("array", "[[1, 2], [3]]", [[1, 2], [3]]),  # or all of it as JSON
        ("string", "[a]\nb", None),  # starts with "[": meant as JSON, but isn't
        ("string", '["a b", " padded ", "two\\nlines", ""]', ["a b", " padded ", "two\nlines", ""]),
    ],
)
def test_values_are_typed_by_the_data_type(editor_web, revenue, data_type, text, stored):
    response = editor_web.post(
        edit_url(revenue), property_data(revenue, data_type=data_type, allowed_values=text)
    )
    if stored is None:
        assert response.status_code == 400
        assert "isn't valid JSON" in text_of(response)
        return
    assert response.status_code == 302, text_of(response)
    revenue.refresh_from_db()
    assert revenue.allowed_values == stored


@pytest.mark.parametrize(
    ("data_type", "text", "message"),
    [
        ("number", "12\nabc", "Line 2: “abc” isn't a number (the data type is Number)."),
        ("integer", "1\n2.5", "Line 2: “2.5” isn't a whole number (the data type is Integer)."),
        ("boolean", "maybe", "Line 1: “maybe” isn't true or false (the data type is Boolean)."),
        ("number", "1e999", "Line 1: the number is too large."),
        ("integer", "9" * 19, "Line 1: the number is too large"),
        ("number", "9" * 5000, "Line 1: the number is too large."),
        ("number", '["1", 2]', 'Value 1: “"1"” isn\'t a number'),
        ("string", "[1, 2", "This looks like a JSON list but isn't valid JSON"),
        ("string", '{"a": 1}', None),  # a line of text, for a string
        ("number", "[NaN]", "isn't valid JSON"),
        ("object", "not json", "isn't a JSON object"),
        ("string", '["a\\u0000b"]', "Text can't contain NUL characters."),
        ("string", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
)
def test_bad_values_say_what_is_wrong_and_save_nothing(
    editor_web, revenue, data_type, text, message
):
    response = editor_web.post(
        edit_url(revenue), property_data(revenue, data_type=data_type, allowed_values=text)
    )
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert "Nothing was saved: fix the fields marked below." in page
    # What was typed stays in the field.
    assert textarea(response.content.decode(), "allowed_values").startswith(
        text[:20].replace('"', "&quot;")
    )
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("number", None)
    assert not ObjectChange.objects.exists()


def test_nul_and_huge_input_never_break_the_page(editor_web, revenue):
    nul = editor_web.post(edit_url(revenue), property_data(revenue, allowed_values="a\x00b"))
    assert nul.status_code == 400
    assert "Null characters are not allowed." in text_of(nul)
    huge = editor_web.post(edit_url(revenue), property_data(revenue, examples="1\n" * 15_000))
    assert huge.status_code == 400
    assert "Ensure this value has at most 20000 characters" in text_of(huge)
    many = editor_web.post(edit_url(revenue), property_data(revenue, examples="1\n" * 1_001))
    assert many.status_code == 400
    assert "Enter at most 1,000 values (this has 1,001)." in text_of(many)
    bad_type = editor_web.post(edit_url(revenue), property_data(revenue, data_type="decimal\x00"))
    assert bad_type.status_code == 400
    assert "Select a valid choice." in text_of(bad_type)
    bad_parent = editor_web.post(
        edit_url(revenue.parent), form_data(revenue.parent, parent="x\x00")
    )
    assert bad_parent.status_code == 400
    assert not ObjectChange.objects.exists()


@pytest.mark.parametrize(
    ("data_type", "values"),
    [
        ("string", ["a", "b c"]),
        ("string", [" padded", "two\nlines", ""]),
        ("string", ["[draft]", "ok"]),
        ("string", ["12", "true"]),
        ("number", [1, 2.5, 1e20]),
        ("number", [1.0, 2]),
        ("boolean", [True, False]),
        ("object", [{"a": [1, {"b": None}]}]),
        ("array", [[1, 2], []]),
        ("null", [None]),
        ("string", []),
        ("string", None),
    ],
)
def test_every_stored_list_reads_back_unchanged(data_type, values):
    shown = show_values(values, data_type)
    if values is None:
        assert shown == ""
        assert parse_values(shown, data_type) is None
        return
    # Exactly equal as JSON (1.0 stays a float, true stays a boolean).
    assert json.dumps(parse_values(shown, data_type)) == json.dumps(values)


def test_values_of_another_type_are_shown_as_json():
    """Stored through the API with mixed types: shown as JSON (kept when untouched, see
    below; an edit of it is checked against the data type)."""
    assert show_values([1, "two", None], "integer") == '[1, "two", null]'
    assert show_values(["a", "b"], "number") == '["a", "b"]'


def test_untouched_lists_keep_what_lines_cant_say(editor_web, revenue):
    """Values that don't fit the data type (set through the API) survive a save of the
    other fields, and so do lists shown as JSON."""
    weird = [1, "two", None, {"x": 1}]
    Resource.objects.filter(pk=revenue.pk).update(allowed_values=weird, examples=[1.0, 2])
    revenue.refresh_from_db()
    html = editor_web.get(edit_url(revenue)).content.decode()
    shown = textarea(html, "allowed_values")
    assert shown.startswith("[1, &quot;two&quot;")
    response = editor_web.post(
        edit_url(revenue), property_data(revenue, description="Money, in euros.")
    )
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert revenue.allowed_values == weird
    assert revenue.examples == [1.0, 2]
    assert isinstance(revenue.examples[0], float)
    assert set(ObjectChange.objects.get(object_id=revenue.pk).diff) == {"description"}
    # Changing only the data type keeps untouched lists too.
    response = editor_web.post(edit_url(revenue), property_data(revenue, data_type="string"))
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("string", weird)


def test_a_form_without_the_schema_fields_changes_nothing_of_them(editor_web, revenue):
    """An older page (or a script) posting without the new fields loses no data."""
    Resource.objects.filter(pk=revenue.pk).update(allowed_values=[1, 2])
    revenue.refresh_from_db()
    data = form_data(revenue, description="Changed.")
    data["required"] = "on"
    response = editor_web.post(edit_url(revenue), data)
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("number", [1, 2])


def test_clearing_a_list_stores_none(editor_web, revenue):
    Resource.objects.filter(pk=revenue.pk).update(allowed_values=[1, 2])
    revenue.refresh_from_db()
    response = editor_web.post(edit_url(revenue), property_data(revenue, allowed_values="  \r\n"))
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert revenue.allowed_values is None
    assert ObjectChange.objects.get(object_id=revenue.pk).diff == {"allowed_values": [[1, 2], None]}


def test_an_event_moves_to_another_category_of_its_integration(editor_web, order_completed):
    source = order_completed.parent
    target = EventCategoryFactory(title="Payments", integration=source.integration)
    hidden_elsewhere = EventCategoryFactory(title="Elsewhere")
    html = editor_web.get(edit_url(order_completed)).content.decode()
    select = re.search(r'<select name="parent".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]+)</option>", select) == ["Checkout", "Payments"]
    assert "Elsewhere" not in select
    assert re.search(rf'<option value="{source.pk}" selected>Checkout</option>', select)

    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, parent=str(target.pk))
    )
    assert response.status_code == 302
    order_completed.refresh_from_db()
    assert order_completed.parent_id == target.pk
    change = ObjectChange.objects.get(object_id=order_completed.pk)
    assert set(change.diff) == {"parent"}
    assert change.diff["parent"][1]["label"].endswith("Payments")
    history = text_of(editor_web.get(reverse("web:resource_history", args=[order_completed.pk])))
    assert "Payments" in history and "Checkout" in history

    # Another integration's category is not a choice (and the service would refuse it).
    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, parent=str(hidden_elsewhere.pk))
    )
    assert response.status_code == 400
    assert "Select a valid choice." in text_of(response)
    order_completed.refresh_from_db()
    assert order_completed.parent_id == target.pk


def test_a_stale_form_names_the_new_fields(editor_web, revenue):
    from catalog.services.context import ChangeContext
    from catalog.services.resources import resource_update

    html = editor_web.get(edit_url(revenue)).content.decode()
    loaded = re.search(r'name="loaded" value="([^"]+)"', html).group(1)
    resource_update(
        ctx=ChangeContext(source="api", user=UserFactory(username="dana")),
        resource=revenue,
        data={"allowed_values": [5]},
    )
    stale = property_data(revenue, allowed_values="7", data_type="integer", loaded=loaded)
    stale["allowed_values"] = "7"
    response = editor_web.post(edit_url(revenue), stale)
    assert response.status_code == 409
    text = text_of(response)
    assert "dana changed this event property after you opened the form" in text
    assert "Your form differs from it in: Data type, Allowed values." in text
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("number", [5])
    again = re.search(r'name="loaded" value="([^"]+)"', response.content.decode()).group(1)
    response = editor_web.post(edit_url(revenue), {**stale, "loaded": again})
    assert response.status_code == 302
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("integer", [7])


def test_viewers_cannot_edit_properties(viewer_web, revenue):
    response = viewer_web.post(
        edit_url(revenue), property_data(revenue, data_type="string", allowed_values="x")
    )
    assert response.status_code == 403
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.allowed_values) == ("number", None)


def test_pickers_replace_the_ctrl_help_and_tags_carry_their_colour(editor_web, order_completed):
    TagFactory(title="finance", color="#b42318")
    html = editor_web.get(edit_url(order_completed)).content.decode()
    text = text_of(editor_web.get(edit_url(order_completed)))
    assert "Hold Ctrl" not in re.sub(r"<noscript>.*?</noscript>", "", html, flags=re.S)
    assert "The people responsible for it; they hear of every change." in text
    for kind in ("owners", "teams", "tags", "collections"):
        assert re.search(rf'<select name="{kind}" data-picker="{kind}"[^>]* multiple>', html)
    assert re.search(r'<option value="[^"]+" data-color="#b42318">finance</option>', html)
    assert 'data-picker-create="/pickers/tags/"' in html
    assert "catalog/picker.js" in html


def test_the_edit_page_costs_the_same_queries_however_big_the_workspace(
    editor_web, order_completed, django_assert_max_num_queries
):
    prop = Resource.objects.get(title="revenue")

    def count(resource) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert editor_web.get(edit_url(resource)).status_code == 200
        return len(queries)

    small = (count(order_completed), count(prop))
    for _ in range(6):
        EventCategoryFactory(integration=order_completed.integration)
        TagFactory()
        TeamFactory()
        CollectionFactory()
        UserFactory()
        EventPropertyFactory(parent=order_completed)
        EventFactory(parent=order_completed.parent)
    order_completed.tags.add(*TagFactory.create_batch(3))
    assert (count(order_completed), count(prop)) == small
    with django_assert_max_num_queries(EDIT_PAGE_QUERIES):
        editor_web.get(edit_url(order_completed))


#: The edit page's queries: session, user, the resource, its relation ids, and the choices of
#: each select (category, owners, teams, tags, collections).
EDIT_PAGE_QUERIES = 10
