"""The demo catalog's data file: what a mistake in it says, and where."""

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.demo import DemoDataError, load_demo_catalog, read_demo_data
from catalog.demo import data as demo_data
from catalog.management.commands import serve
from catalog.models import Resource, User

SHIPPED = demo_data.DATA_FILE.read_text(encoding="utf-8")


def broken(tmp_path, old: str, new: str):
    """The shipped file with the first `old` replaced by `new`, written to a temporary file."""
    assert old in SHIPPED, old
    path = tmp_path / "catalog.toml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_shipped_file_is_valid():
    data = read_demo_data()
    assert [spec.name for spec in data.integrations] == ["Web app", "iOS app", "Backend"]
    # Backend flags what breaks the plan; the others discover (the default).
    modes = [spec.validation_mode for spec in data.integrations]
    assert modes == ["discover", "discover", "flag"]
    assert sum(len(category.events) for category in data.categories) >= 100
    assert data.properties["revenue"].data_type == "number"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"order_id", "checkout_id", "total", "revenue",',
            '"order_id", "checkout_id", "total", "revnue",',
            'catalog.toml: [[categories]] #4 "Checkout" > [[categories.events]] #10 '
            "\"Order Completed\" > properties: no property 'revnue'",
        ),
        (
            'description = "Marketing version of the app."\nrequired = true',
            'description = "Marketing version of the app."\nrequired = "yes"',
            "catalog.toml: [properties.app_version] > required: must be true or false, not a "
            "string",
        ),
        (
            '[properties.app_version]\ntype = "string"',
            '[properties.app_version]\ntype = "text"',
            "catalog.toml: [properties.app_version] > type: 'text' is not one of: string, "
            "number, integer",
        ),
        (
            'examples = ["5.12.0"]',
            "examples = [2024-05-14]",
            "[properties.app_version] > examples: must be a non-empty list of strings, numbers, "
            "true/false, lists or inline tables (no dates), not a list",
        ),
        (
            'validation_mode = "flag"',
            'validation_mode = "strict"',
            "catalog.toml: [[integrations]] #3 \"Backend\" > validation_mode: 'strict' is not "
            "one of: discover, flag, block",
        ),
        (
            'validation_mode = "flag"',
            "validation_mode = true",
            'catalog.toml: [[integrations]] #3 "Backend" > validation_mode: must be a string, '
            "not true/false",
        ),
        (
            'name = "Mobile"\ndescription',
            'name = "Mobile"\ndescripton',
            "catalog.toml: [[teams]] #2 \"Mobile\": unknown key 'descripton'; the keys are: "
            "name, description",
        ),
        (
            'username = "kenji.tanaka"\n',
            "",
            "catalog.toml: [[users]] #2: 'username' is missing",
        ),
        (
            'role = "viewer"',
            'role = "owner"',
            "catalog.toml: [[accounts]] #3 \"viewer\" > role: 'owner' is not one of: admin, "
            "editor, viewer",
        ),
        (
            '    "Web app / Checkout / Cart Viewed",\n',
            '    "Web app / Checkout / Basket Viewed",\n',
            'catalog.toml: [[collections]] #1 "Checkout funnel" > events: no event '
            "'Web app / Checkout / Basket Viewed'",
        ),
        (
            'title = "Signed Out"',
            'title = "Signed In"',
            'catalog.toml: [[categories]] #5 "Account" > [[categories.events]] #2 "Signed In": '
            "a second event 'Signed In'",
        ),
        (
            'deprecated = "Do not use in new analyses."\n',
            "",
            "catalog.toml: [tags]: the loader gives these tags by rule; define them: "
            "['deprecated']",
        ),
        (
            'privacy_owner = "lukas.becker"',
            'privacy_owner = "lukas"',
            "catalog.toml: privacy_owner: no user 'lukas'",
        ),
        (
            '    "Web app / Acquisition",\n',
            '    "Web app / Aquisition",\n',
            'catalog.toml: [[accounts]] #2 "editor" > follows: no resource '
            "'Web app / Aquisition' (name one as \"Integration / Category / Event\", with "
            '" / property" for a property)',
        ),
        (
            'by = "editor"',
            'by = "viewer"',
            'catalog.toml: [[edits]] #1 "Web app / Checkout / Order Completed / revenue" > by: '
            "only editors and admins may edit the catalog",
        ),
        (
            'resource = "Backend / Orders / order_shipped"\npii = true',
            'resource = "Backend / Orders / order_shipped"\nrequired = true',
            'catalog.toml: [[edits]] #4 "Backend / Orders / order_shipped" > required: only '
            "event properties have this field",
        ),
    ],
)
def test_a_mistake_is_named_with_its_place_in_the_file(tmp_path, old, new, message):
    with pytest.raises(DemoDataError) as error:
        read_demo_data(broken(tmp_path, old, new))
    assert message in str(error.value)


def test_toml_syntax_errors_give_the_line(tmp_path):
    path = broken(tmp_path, "[[teams]]", "[[teams]")
    with pytest.raises(DemoDataError, match=r"catalog\.toml: not valid TOML: .*line \d+"):
        read_demo_data(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DemoDataError, match=r"Can.t read the demo catalog .*nowhere\.toml"):
        read_demo_data(tmp_path / "nowhere.toml")


@pytest.mark.django_db
def test_a_broken_file_stops_the_load_before_it_writes_anything(tmp_path, monkeypatch):
    path = broken(tmp_path, 'type = "segment"', 'type = "heap"')
    monkeypatch.setattr(demo_data, "DATA_FILE", path)
    with pytest.raises(DemoDataError, match=r"\[\[integrations\]\] #1 \"Web app\" > type"):
        load_demo_catalog()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_serve_says_what_is_wrong_with_the_file(tmp_path, monkeypatch, settings):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr(demo_data, "DATA_FILE", broken(tmp_path, "[tags]", "[tagz]"))
    with pytest.raises(CommandError, match=r"demo catalog can.t be loaded.*unknown key .tagz."):
        call_command("serve", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Resource.objects.exists()


@pytest.mark.django_db
def test_an_edit_the_catalog_refuses_stops_the_whole_load(tmp_path):
    path = broken(
        tmp_path,
        'description = "Revenue after discounts, before shipping and tax, in `currency`."',
        'title = "currency"',
    )
    with pytest.raises(DemoDataError) as error:
        load_demo_catalog(data=read_demo_data(path))
    assert str(error.value).startswith(
        'catalog.toml: [[edits]] #1 "Web app / Checkout / Order Completed / revenue": '
    )
    assert "already" in str(error.value)
    assert not Resource.objects.exists() and not User.objects.exists()
