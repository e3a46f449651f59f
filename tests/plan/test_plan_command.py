"""`manage.py plan`: export, import (dry run, modes), codegen and check from a terminal or a
CI job, with exit statuses a script can rely on."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ChangeSet, ChangeSource, Resource
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def web():
    web = IntegrationFactory(name="Web")
    event = EventFactory(
        parent=EventCategoryFactory(integration=web, title="Checkout"), title="Order Completed"
    )
    EventPropertyFactory(parent=event, title="currency", required=True, allowed_values=["EUR"])
    return web


def run(*args, stdin: bytes | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("plan", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_then_import_of_the_file_changes_nothing(web, tmp_path):
    path = tmp_path / "plan.csv"
    run("export", "--format", "csv", "--integration", "Web", "--output", str(path))
    assert "Order Completed" in path.read_text(encoding="utf-8-sig")

    out, err = run("import", str(path), "--mode", "sync")

    assert json.loads(out)["created"] == []
    assert err.strip() == "Nothing to change: the catalog already holds the file's plan."


def test_a_dry_run_prints_the_diff_and_changes_nothing(web, tmp_path):
    path = tmp_path / "plan.csv"
    run("export", "--format", "csv", "--output", str(path))
    path.write_text(
        path.read_text(encoding="utf-8-sig") + "Web,Checkout,Cart Viewed,,,,,,,,,\n",
        encoding="utf-8",
    )

    out, err = run("import", str(path), "--dry-run")

    assert [c["event"] for c in json.loads(out)["created"]] == ["Cart Viewed"]
    assert err.strip() == "Dry run: would create 1, change 0, delete 0; nothing was changed."
    assert not Resource.objects.filter(title="Cart Viewed").exists()

    out, err = run("import", str(path))
    change_set = ChangeSet.objects.get()
    assert change_set.source == ChangeSource.COMMAND
    assert f"as change set {change_set.pk}" in err


def test_a_file_with_problems_fails_naming_each(web, tmp_path):
    path = tmp_path / "plan.csv"
    run("export", "--format", "csv", "--output", str(path))
    path.write_text(
        path.read_text(encoding="utf-8-sig") + "Mobile,Checkout,Opened,,,,,,,,,\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as raised:
        run("import", str(path))

    assert str(raised.value) == (
        "The file can't be imported; nothing was changed.\n"
        "  row 3: There is no integration named 'Mobile'."
    )


def test_a_file_of_unknown_format_asks_for_one(web, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("x")
    with pytest.raises(CommandError, match="--format"):
        run("import", str(path))


def test_codegen_writes_typed_code(web):
    out, _err = run("codegen", "--language", "typescript")
    assert "export function orderCompleted" in out


def test_check_exits_non_zero_listing_each_breaking_sample(web, tmp_path):
    samples = tmp_path / "samples.json"
    samples.write_text(
        json.dumps(
            [
                {"event": "Order Completed", "properties": {"currency": "EUR"}},
                {"event": "Order Completed", "properties": {"currency": "GBP"}},
            ]
        )
    )

    with pytest.raises(CommandError) as raised:
        run("check", str(samples), "--integration", "Web")

    assert raised.value.returncode == 1
    assert str(raised.value) == "1 of 2 samples break the plan."

    samples.write_text(
        json.dumps([{"event": "Order Completed", "properties": {"currency": "EUR"}}])
    )
    out, _err = run("check", str(samples))
    assert out.strip() == "1 sample checked: all follow the plan."


def test_a_refusal_of_the_catalog_is_a_message_not_a_traceback(web, tmp_path, monkeypatch):
    from django.core.exceptions import ValidationError

    from catalog.management.commands import plan as command

    def refuse(**_kwargs):
        raise ValidationError({"title": "The parent already has a child with this title."})

    monkeypatch.setattr(command, "plan_import", refuse)
    path = tmp_path / "plan.csv"
    run("export", "--format", "csv", "--output", str(path))

    with pytest.raises(CommandError) as raised:
        run("import", str(path))

    assert str(raised.value) == (
        "Nothing was changed: The parent already has a child with this title."
    )
