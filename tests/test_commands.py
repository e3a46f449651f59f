"""The demo catalog and the operator commands: `serve` and `create_api_key`."""

import io
import json
import socket
import uuid
from collections import Counter

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command
from django.db.models import Count, F

from catalog.demo import DemoCatalogError, load_demo_catalog
from catalog.management.commands import serve
from catalog.models import (
    ApiKey,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    Resource,
    Role,
    User,
)
from catalog.services.keys import api_key_authenticate
from catalog.services.workspace import user_deactivate, user_set_password
from tests.factories import (
    SYSTEM,
    EventCategoryFactory,
    UserFactory,
    fingerprint_of_a_demo_load,
)
from tests.processes import Output, command_name, free_port, manage, trial_env, wait_for

pytestmark = pytest.mark.django_db


# The demo catalog.


def test_demo_catalog_is_big_enough_and_consistent():
    counts = load_demo_catalog()

    assert counts["integrations"] == Integration.objects.count() >= 3
    assert counts["event_categories"] == EventCategory.objects.count() >= 10
    assert counts["events"] == Event.objects.count() >= 100
    assert counts["event_properties"] == EventProperty.objects.count() >= 500
    assert len({i.type for i in Integration.objects.all()}) >= 3
    # Every child hangs under a parent of the right kind, in the same integration.
    for kind, parent_kind in [
        (EntityType.EVENT, EntityType.EVENT_CATEGORY),
        (EntityType.EVENT_PROPERTY, EntityType.EVENT),
    ]:
        children = Resource.objects.filter(entity_type=kind)
        assert not children.exclude(parent__entity_type=parent_kind).exists()
        assert not children.exclude(parent__integration=F("integration")).exists()
    # Every event has properties; every property row passes the model's own validation.
    assert not Event.objects.annotate(n=Count("children")).filter(n=0).exists()
    for resource in list(Resource.objects.all())[::25]:
        resource.full_clean()


def test_demo_catalog_looks_like_a_real_one():
    load_demo_catalog()
    props = EventProperty.objects.all()

    assert Event.objects.filter(title="Order Completed").exists()
    assert {"revenue", "currency", "email", "order_id"} <= set(
        props.values_list("title", flat=True)
    )
    pii = set(props.filter(pii=True).values_list("title", flat=True))
    assert {"email", "phone", "ip_address"} <= pii
    assert not props.filter(title="revenue", pii=True).exists()
    assert Event.objects.filter(pii=True).exists()
    assert len(set(props.values_list("data_type", flat=True))) >= 6
    assert props.filter(required=True).exists() and props.filter(required=False).exists()
    currency = props.filter(title="currency").first()
    assert "EUR" in currency.allowed_values
    assert props.exclude(examples=None).count() > 100
    for flag in ("verified", "published"):
        values = Counter(Event.objects.values_list(flag, flat=True))
        assert values[True] and values[False], flag
    documented = Event.objects.exclude(definition="")
    assert 0 < documented.count() < Event.objects.count()
    # An example payload, but no copy of the property table the event's page shows.
    assert "## Example" in documented.first().definition
    assert "## Properties" not in documented.first().definition
    # People and labels.
    roles = Counter(User.objects.values_list("role", flat=True))
    assert roles[Role.EDITOR] >= 2 and roles[Role.VIEWER] >= 2
    assert Event.objects.filter(owners__role=Role.EDITOR).exists()
    assert Event.objects.filter(subscribers__role=Role.VIEWER).exists()
    assert Event.objects.filter(tags__title="checkout").exists()
    assert Event.objects.filter(collections__title="Checkout funnel").count() >= 6
    assert EventProperty.objects.filter(pii=True, tags__title="gdpr").exists()
    assert Event.objects.filter(teams__name="Payments").exists()


def test_demo_catalog_is_deterministic():
    def fingerprint():
        return list(
            Resource.objects.order_by(
                "integration__name", "parent__parent__title", "parent__title", "title"
            )
            .annotate(owner_count=Count("owners"), tag_count=Count("tags"))
            .values_list(
                "integration__name",
                "parent__title",
                "title",
                "verified",
                "published",
                "definition",
                "owner_count",
                "tag_count",
            )
        )

    first = fingerprint_of_a_demo_load(fingerprint)
    assert not Resource.objects.exists()
    load_demo_catalog()
    assert fingerprint() == first


def test_demo_catalog_is_not_loaded_twice():
    load_demo_catalog()
    before = Resource.objects.count()
    with pytest.raises(DemoCatalogError):
        load_demo_catalog()
    assert Resource.objects.count() == before


def test_demo_catalog_reuses_existing_users_and_integrations():
    user = UserFactory(username="maria.garcia", role=Role.VIEWER)
    Integration.objects.create(name="Web app", type="segment")
    load_demo_catalog()
    user.refresh_from_db()
    assert user.role == Role.VIEWER
    assert Integration.objects.filter(name="Web app").count() == 1


# manage.py serve. `runserver` is replaced (it would block); migrate and the rest run for real.


@pytest.fixture
def commands(monkeypatch, settings, tmp_path):
    """Names of the commands `serve` ran; runserver and collectstatic are only recorded."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DATA_DIR = tmp_path / "data"
    calls = []

    def fake_call_command(command, *args, **options):
        calls.append((command_name(command), args, options))
        if command_name(command) not in ("runserver", "collectstatic"):
            return call_command(command, *args, **options)

    monkeypatch.setattr(serve, "call_command", fake_call_command)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    return calls


def run_serve(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("serve", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def demo_accounts(out: str) -> dict[str, tuple[str, str]]:
    """username -> (role, password column) from serve's table of demo accounts."""
    lines = out.splitlines()
    start = lines.index("  username  role    password") + 1
    rows = [line.split(maxsplit=2) for line in lines[start : start + 3]]
    return {username: (role, password) for username, role, password in rows}


def test_serve_prepares_an_empty_database_and_starts_the_server(commands, settings):
    settings.DEBUG = False
    out, _ = run_serve()

    assert [name for name, _, _ in commands] == ["migrate", "collectstatic", "runserver"]
    assert commands[0][2]["interactive"] is False
    assert commands[-1][1:] == (("127.0.0.1:8000",), {"use_reloader": False})
    assert Event.objects.count() >= 100
    assert "Loaded the demo catalog" in out
    assert "Demo accounts: log in at http://127.0.0.1:8000/login/ as" in out
    accounts = demo_accounts(out)
    assert {name: role for name, (role, _) in accounts.items()} == {
        "admin": "admin",
        "editor": "editor",
        "viewer": "viewer",
    }
    # The demo's admin is the workspace's admin account: no other one is made.
    assert list(User.objects.filter(role=Role.ADMIN).values_list("username", flat=True)) == [
        "admin"
    ]
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
    for username, (role, password) in accounts.items():
        user = User.objects.get(username=username)
        assert user.role == role and len(password) >= 16 and user.check_password(password)
    assert len({password for _, password in accounts.values()}) == 3
    assert "Created an admin account" not in out and "exists already" not in out
    assert "http://127.0.0.1:8000/admin/" in out
    assert "http://127.0.0.1:8000/healthcheck" in out


def test_serve_twice_keeps_the_catalog_and_prints_the_same_accounts(commands, settings):
    first, _ = run_serve()
    resources, users = Resource.objects.count(), User.objects.count()
    out, _ = run_serve()

    assert Resource.objects.count() == resources
    assert User.objects.count() == users
    assert "not loading the demo" in out
    assert demo_accounts(out) == demo_accounts(first)
    path = settings.DATA_DIR / "demo-accounts.json"
    assert f"The passwords are kept in {path}" in out
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_printed_demo_passwords_let_one_in(commands, client):
    accounts = demo_accounts(run_serve()[0])

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": accounts["editor"][1]},
        follow=True,
    )
    assert response.status_code == 200 and response.context["user"].username == "editor"
    assert "Catalog administration" in response.text
    client.logout()
    assert client.login(username="viewer", password=accounts["viewer"][1])
    assert not client.login(username="admin", password=accounts["editor"][1])


def test_serve_says_when_a_demo_password_changed_since(commands):
    run_serve()
    viewer = User.objects.get(username="viewer")
    user_set_password(ctx=SYSTEM, user=viewer, password="my-own-new-passphrase")
    editor = User.objects.get(username="editor")
    user_deactivate(ctx=SYSTEM, user=editor)

    out, _ = run_serve()

    accounts = demo_accounts(out)
    assert accounts["viewer"] == (
        "viewer",
        "password changed since the demo was loaded (forgot it? "
        "uv run manage.py changepassword viewer)",
    )
    assert accounts["editor"] == ("editor", "(deactivated)")
    assert User.objects.get(username="admin").check_password(accounts["admin"][1])


def test_serve_still_shows_a_password_django_hashed_again(commands):
    """Django re-hashes a password at login when its hasher gets stronger: same password."""
    password = demo_accounts(run_serve()[0])["admin"][1]
    admin = User.objects.get(username="admin")
    User.objects.filter(pk=admin.pk).update(password=make_password(password))

    assert demo_accounts(run_serve()[0])["admin"] == ("admin", password)


def test_serve_gives_the_demo_admin_the_admin_password_of_the_environment(commands, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct-horse-battery-staple")
    out, _ = run_serve()

    assert User.objects.get(username="admin").check_password("correct-horse-battery-staple")
    assert "correct-horse-battery-staple" not in out
    accounts = demo_accounts(out)
    assert accounts["admin"] == ("admin", "the value of ADMIN_PASSWORD")
    assert User.objects.get(username="editor").check_password(accounts["editor"][1])


def test_serve_refuses_a_weak_admin_password_before_loading_the_demo(commands, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "admin")
    with pytest.raises(CommandError, match="ADMIN_PASSWORD is too weak"):
        run_serve()
    assert not User.objects.exists() and not Resource.objects.exists()


def test_serve_ignores_the_accounts_of_another_database(commands, settings):
    settings.DATA_DIR.mkdir()
    (settings.DATA_DIR / "demo-accounts.json").write_text(
        json.dumps(
            {
                "accounts": [
                    {"username": "admin", "role": "admin", "id": str(uuid.uuid4()),
                     "password": "from-another-database"},
                ]
            }
        )
    )  # fmt: skip
    out, _ = run_serve("--no-demo")
    assert "Demo accounts" not in out and "from-another-database" not in out
    assert "Created an admin account." in out


def test_serve_warns_about_an_unreadable_accounts_file(commands, settings):
    settings.DATA_DIR.mkdir()
    (settings.DATA_DIR / "demo-accounts.json").write_text("{not json")
    out, err = run_serve("--no-demo")
    assert "Can't read the demo accounts in" in err and "Not showing the demo accounts." in err
    assert "Created an admin account." in out


def test_serve_does_not_load_the_demo_over_an_existing_catalog(commands, admin_user):
    EventCategoryFactory()
    out, _ = run_serve()
    assert Resource.objects.count() == 1
    assert "not loading the demo" in out
    assert "An admin account exists already (admin)" in out


def test_serve_no_demo(commands):
    out, _ = run_serve("--no-demo")
    assert not Resource.objects.exists()
    assert "--no-demo" in out
    assert User.objects.filter(role=Role.ADMIN).count() == 1
    assert "Demo accounts" not in out
    password = next(line for line in out.splitlines() if "Password:" in line).split()[-1]
    assert len(password) >= 16 and User.objects.get(username="admin").check_password(password)
    out, _ = run_serve("--no-demo")
    assert "An admin account exists already (admin)" in out
    assert "uv run manage.py changepassword admin" in out
    assert "Password:" not in out


def test_serve_takes_the_admin_password_from_the_environment(commands, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "correct-horse-battery-staple")
    out, _ = run_serve("--no-demo")
    assert User.objects.get(username="admin").check_password("correct-horse-battery-staple")
    assert "correct-horse-battery-staple" not in out
    assert "ADMIN_PASSWORD" in out


def test_serve_refuses_a_weak_admin_password(commands, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "admin")
    with pytest.raises(CommandError, match="ADMIN_PASSWORD"):
        run_serve("--no-demo")
    assert not User.objects.filter(username="admin").exists()


def test_serve_counts_a_superuser_as_the_admin(commands):
    User.objects.create_superuser("root", password="a-long-enough-password")
    out, _ = run_serve("--no-demo")
    assert not User.objects.filter(username="admin").exists()
    assert "changepassword root" in out


def test_serve_skips_collectstatic_when_debugging(commands, settings):
    settings.DEBUG = True
    run_serve("--no-demo")
    assert "collectstatic" not in [name for name, _, _ in commands]


def test_serve_collects_static_files(monkeypatch, settings, tmp_path):
    """The one test that really runs collectstatic, into a temporary directory."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    serve.Command(stdout=io.StringIO(), stderr=io.StringIO()).prepare(load_demo=False)
    assert (tmp_path / "static" / "admin" / "css" / "base.css").exists()


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("8001", "127.0.0.1:8001"),
        ("0.0.0.0:80", "0.0.0.0:80"),
        ("localhost:9000", "localhost:9000"),
        ("[::1]:8000", "[::1]:8000"),
        ("catalog.example.com:8080", "catalog.example.com:8080"),
    ],
)
def test_serve_accepts_addresses(commands, addr, expected):
    run_serve("--no-demo", "--addr", addr)
    assert commands[-1][1] == (expected,)


@pytest.mark.parametrize(
    "addr",
    ["", "abc", "localhost:", ":8000", "127.0.0.1:0", "127.0.0.1:70000", "300.1.1.1:80",
     "[nope]:80", "bad host:80", "host:80:90", "-8000"],
)  # fmt: skip
def test_serve_rejects_bad_addresses_before_touching_anything(commands, addr):
    with pytest.raises(CommandError, match="Invalid --addr"):
        run_serve("--addr", addr)
    assert commands == []
    assert not User.objects.exists()


def test_serve_warns_about_hosts_django_would_refuse(commands, settings):
    settings.ALLOWED_HOSTS = ["catalog.example.com"]
    _, err = run_serve("--no-demo", "--addr", "127.0.0.1:8000")
    assert "not in ALLOWED_HOSTS" in err


@pytest.fixture
def a_machine(monkeypatch):
    """This machine, as its name and addresses look to `serve`: catalog-box, 10.20.30.40."""
    addresses = {
        "catalog-box": ["10.20.30.40", "127.0.1.1"],
        "catalog-box.office.example": ["10.20.30.40", "2001:db8:1::7", "fe80::1%eth0"],
    }
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in addresses:
            return real_getaddrinfo(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 0)) for ip in addresses[host]]

    monkeypatch.setattr(socket, "gethostname", lambda: "catalog-box")
    monkeypatch.setattr(socket, "getfqdn", lambda *args: "catalog-box.office.example")
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(serve, "_ROUTE_PROBES", [])
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)


def test_serve_on_every_interface_answers_to_the_machines_names_and_addresses(
    commands, settings, client, a_machine
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]  # The default.
    assert client.get("/healthcheck", HTTP_HOST="10.20.30.40:8000").status_code == 400

    out, _ = run_serve("--no-demo", "--addr", "0.0.0.0:8000")

    for host in ["10.20.30.40", "catalog-box", "catalog-box.office.example"]:
        response = client.get("/healthcheck", HTTP_HOST=f"{host}:8000")
        assert response.status_code == 200, host
        assert f"http://{host}:8000/" in out
    assert "127.0.1.1" not in out and "fe80" not in out  # Loopback and link-local.
    assert "2001:db8" not in out  # 0.0.0.0 is IPv4 only.
    assert client.get("/healthcheck", HTTP_HOST="elsewhere.example").status_code == 400
    assert "Set ALLOWED_HOSTS to the names to answer to." in out


def test_serve_on_every_ipv6_interface_answers_to_both_kinds_of_address(
    commands, settings, client, a_machine
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    out, _ = run_serve("--no-demo", "--addr", "[::]:8000")
    for host in ["10.20.30.40", "[2001:db8:1::7]"]:
        assert client.get("/healthcheck", HTTP_HOST=f"{host}:8000").status_code == 200, host
        assert f"http://{host}:8000/" in out


def test_serve_keeps_allowed_hosts_set_in_the_environment(
    commands, settings, client, a_machine, monkeypatch
):
    monkeypatch.setenv("ALLOWED_HOSTS", "catalog.example.com")
    settings.ALLOWED_HOSTS = ["catalog.example.com"]
    out, _ = run_serve("--no-demo", "--addr", "0.0.0.0:8000")
    assert settings.ALLOWED_HOSTS == ["catalog.example.com"]
    assert client.get("/healthcheck", HTTP_HOST="10.20.30.40").status_code == 400
    assert "From other machines" not in out


def test_serve_on_one_address_answers_to_that_address_only(commands, settings, a_machine):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    run_serve("--no-demo", "--addr", "127.0.0.1:8000")
    assert settings.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]


def test_a_real_server_on_every_interface_answers_at_the_machines_address(tmp_path):
    """`manage.py serve --addr 0.0.0.0:PORT` as a person runs it, asked at this machine's
    address, as another machine would (in a trial of its own, on SQLite in a temporary dir)."""
    machine = [host for host in serve.machine_hosts() if host[0].isdigit()]
    if not machine:
        pytest.skip("This machine has no IPv4 address but loopback.")
    port = free_port()
    server = Output(
        manage("serve", "--no-demo", "--addr", f"0.0.0.0:{port}", env=trial_env(tmp_path))
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthcheck") == 200
        assert wait_for(f"http://{machine[0]}:{port}/healthcheck") == 200
        assert wait_for(f"http://{machine[0]}:{port}/admin/login/") == 200
    finally:
        output = server.stop()
    assert f"http://{machine[0]}:{port}/" in output


def test_serve_has_help_on_every_option():
    parser = serve.Command().create_parser("manage.py", "serve")
    own = [a for a in parser._actions if {"--addr", "--no-demo"} & set(a.option_strings)]
    assert len(own) == 2 and all(a.help for a in own)


# manage.py create_api_key.


def run_create_api_key(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_create_api_key_prints_a_working_key_last(editor):
    lines, _ = run_create_api_key("--user", "editor", "--name", "CI checks")

    secret = lines[-1]
    key = api_key_authenticate(secret)
    assert key is not None and key.user == editor and key.name == "CI checks"
    assert key.key_hash != secret and secret not in key.key_hash
    assert not ApiKey.objects.filter(key_hash__contains=secret).exists()
    assert any("shown" in line or "not shown again" in line for line in lines[:-1])


def test_create_api_key_creates_a_user_with_a_role():
    lines, _ = run_create_api_key(
        "--user", "ci-bot", "--create-user", "--role", "editor", "--email", "ci@example.com"
    )
    user = User.objects.get(username="ci-bot")
    assert user.role == Role.EDITOR and user.email == "ci@example.com"
    assert not user.has_usable_password()
    assert api_key_authenticate(lines[-1]).user == user
    assert "Created user ci-bot with role editor." in lines


def test_create_api_key_creates_viewers_by_default():
    lines, _ = run_create_api_key("--user", "notebook", "--create-user")
    user = User.objects.get(username="notebook")
    assert user.role == Role.VIEWER
    assert api_key_authenticate(lines[-1]).user == user


def test_create_api_key_reuses_an_existing_user_with_create_user(viewer):
    lines, _ = run_create_api_key("--user", "viewer", "--create-user", "--role", "viewer")
    assert User.objects.filter(username="viewer").count() == 1
    assert api_key_authenticate(lines[-1]).user == viewer


def test_create_api_key_never_changes_a_role(viewer):
    with pytest.raises(CommandError, match="exists with role viewer"):
        run_create_api_key("--user", "viewer", "--create-user", "--role", "admin")
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER
    assert not ApiKey.objects.exists()


def test_create_api_key_refuses_an_unknown_user():
    with pytest.raises(CommandError, match=r"No user 'ghost'.*--create-user"):
        run_create_api_key("--user", "ghost")
    assert not User.objects.exists() and not ApiKey.objects.exists()


def test_create_api_key_refuses_an_inactive_user(editor):
    editor.is_active = False
    editor.save()
    with pytest.raises(CommandError, match="inactive"):
        run_create_api_key("--user", "editor")
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "x", "--create-user", "--role", "owner"], "invalid choice"),
        (["--user", "x", "--email", "x@example.com"], "only used with --create-user"),
        (["--user", "bad name!", "--create-user"], "Cannot create user"),
        (["--user", "x", "--create-user", "--email", "not-an-email"], "Cannot create user"),
    ],
)
def test_create_api_key_explains_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run_create_api_key(*args)
    assert not User.objects.exists()
