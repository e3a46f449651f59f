"""The demo catalog's data file: what a mistake in it says, and where."""

import io
import itertools
import math
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.demo import DemoDataError, load_demo_catalog, read_demo_data
from catalog.demo import data as demo_data
from catalog.management.commands import serve
from catalog.models import Resource, Tag, User

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
            'deprecated = { color = "#6E7781", description = "Do not use in new analyses." }\n',
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


# Tags: distinct, readable colours. Definitions: no copy of the property table.


def _relative_luminance(color: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two "#RRGGBB" colours."""
    high, low = sorted((_relative_luminance(one), _relative_luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def site_colors() -> dict[str, str]:
    """The stylesheet's colour variables (--text, --card ...)."""
    css = (Path(__file__).parent.parent / "catalog/static/catalog/site.css").read_text()
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def test_the_contrast_helper_knows_wcag():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the classic AA grey


@pytest.mark.django_db
def test_demo_tags_have_distinct_readable_colours():
    load_demo_catalog()
    colors = dict(Tag.objects.values_list("title", "color"))
    assert len(colors) >= 16
    assert len({color.lower() for color in colors.values()}) == len(colors)
    # Clearly apart, not only different: CIE76 distance of 12 or more between any two (2.3
    # is the smallest difference people notice).
    for (one, a), (other, b) in itertools.combinations(colors.items(), 2):
        assert math.dist(_lab(a), _lab(b)) >= 12, (one, a, other, b)
    palette = site_colors()
    for title, color in colors.items():
        # The chip (templates/catalog/_tag.html) draws a dot of the colour on the card, beside
        # the title: visible (3:1 for graphics), and white text on the colour itself would be
        # readable too (AA, 4.5:1), should a chip ever be filled with it.
        assert contrast(color, palette["card"]) >= 4.5, (title, color)
        assert contrast("#ffffff", color) >= 4.5, (title, color)
        # The chip's text: the page's text colour on the card.
        assert contrast(palette["text"], palette["card"]) >= 4.5


def test_a_tag_colour_must_be_rrggbb(tmp_path):
    path = broken(tmp_path, 'kpi = { color = "#A35200"', 'kpi = { color = "orange"')
    with pytest.raises(
        DemoDataError, match=r'\[tags\] > kpi > color: must be a colour as "#RRGGBB"'
    ):
        read_demo_data(path)


@pytest.mark.django_db
def test_demo_definitions_do_not_repeat_the_property_table():
    load_demo_catalog()
    events = Resource.objects.filter(entity_type="event")
    assert events.count() >= 100
    for event in events.only("title", "definition"):
        text = event.definition
        assert "## Properties" not in text, event.title
        assert "| Property |" not in text and "| Type |" not in text, event.title
        # The prose stays: what the event means, or when it fires.
        assert text.strip() == "" or len(text.split()) > 5, event.title
    written = events.get(title="Order Completed", integration__name="Web app")
    assert "## When it fires" in written.definition
