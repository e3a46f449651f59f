"""`manage.py serve`: one command from a fresh checkout to a working catalog.

It migrates, collects static files (when not debugging), loads the demo catalog into an empty
database, makes sure an admin account exists, prints how to log in, and then runs Django's
server without the reloader; whitenoise serves the static files. Meant for a trial on one
machine; production runs gunicorn behind a TLS proxy (see README.md).

The demo brings an admin, an editor and a viewer account with random passwords, kept in
DATA_DIR/demo-accounts.json (see `catalog.demo.accounts`): every start prints them while an
account still has its demo password. The same file keeps the secret of the demo's write key
for the Web app: every start prints it with a `curl` command that sends an event, until the
key is revoked. The demo's admin is the workspace's admin account;
without the demo (--no-demo, or a catalog that has resources), serve makes sure an admin
exists as before, and prints its password once, when it creates it.

A trial user never meets Django's debug pages: whatever DJANGO_DEBUG says (manage.py turns it
on for an unconfigured trial), serve answers with DEBUG off in its own process, so an unknown
URL or a hidden resource gets the product's 404 page (JSON under /api/) and an error its 500
page; tracebacks still go to the terminal. Static files are served as before (see
WHITENOISE_USE_FINDERS in config/settings.py). Run `manage.py runserver` for debug pages.

Links in emails start with SITE_URL; unless it is set in the environment, serve sets it to
the address it listens on (127.0.0.1 for 0.0.0.0, [::1] for [::]), for its own process, and
says so. Without EMAIL_URL, emails are kept as files in DATA_DIR/emails, one line printed for
each (`catalog.notifications.mailbox`).

ALLOWED_HOSTS defaults to localhost only, so a server listening on every interface (--addr
0.0.0.0:PORT or [::]:PORT) would answer other machines 400 Bad Request. Unless ALLOWED_HOSTS is
set in the environment, serve then adds this machine's host names and addresses to it, for its
own process, and prints the URLs other machines can use.
"""

import ipaddress
import json
import os
import re
import secrets
import socket
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connections
from django.http.request import validate_host

from catalog.demo import (
    DemoAccount,
    DemoCatalogError,
    DemoWriteKey,
    demo_accounts_file,
    load_demo_catalog,
    read_demo_accounts,
    read_demo_write_keys,
)
from catalog.management.setup_lock import setup_lock
from catalog.models import Resource, Role, User
from catalog.services.context import ChangeContext
from catalog.services.workspace import user_create

DEFAULT_HOST = "127.0.0.1"
DEFAULT_ADDR = f"{DEFAULT_HOST}:8000"
ADMIN_USERNAME = "admin"
WAITING = (
    "Another process is setting up this database (serve or migrate); waiting for it to finish..."
)
_HOSTNAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
#: Listening on one of these is listening on every interface of the machine.
EVERY_INTERFACE = ("0.0.0.0", "[::]")
#: Addresses of no real host (documentation ranges). "Connecting" a UDP socket to one sends
#: nothing; it only tells which local address the machine would send from: its address on the
#: network of its default route.
_ROUTE_PROBES = [(socket.AF_INET, ("192.0.2.1", 9)), (socket.AF_INET6, ("2001:db8::1", 9))]


def machine_hosts(*, ipv6: bool = True) -> list[str]:
    """This machine's host names and network addresses, as a browser on another machine puts
    them in the Host header (IPv6 in brackets, unless left out); loopback and link-local ones
    left out."""
    names = {name for name in (socket.gethostname(), socket.getfqdn()) if _HOSTNAME.match(name)}
    addresses = set()
    for name in names:
        try:
            addresses |= {info[4][0] for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
    for family, probe in _ROUTE_PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect(probe)
                addresses.add(udp.getsockname()[0])
        except OSError:  # No network of that family.
            continue
    ips = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:  # Not an IP address.
            continue
        unreachable = ip.is_loopback or ip.is_unspecified or ip.is_link_local
        if not unreachable and (ip.version == 4 or ipv6):
            ips.append(ip)
    hosts = sorted(name for name in names if name != "localhost")
    ips.sort(key=lambda ip: (ip.version, ip))
    return hosts + [str(ip) if ip.version == 4 else f"[{ip}]" for ip in ips]


def admin_password_from_env() -> str | None:
    """ADMIN_PASSWORD, for the first admin account; CommandError if it is too weak."""
    password = os.environ.get("ADMIN_PASSWORD", "")
    if not password:
        return None
    try:
        validate_password(password, User(username=ADMIN_USERNAME))
    except ValidationError as error:
        raise CommandError("ADMIN_PASSWORD is too weak: " + " ".join(error.messages)) from None
    return password


def parse_addr(value: str) -> tuple[str, int]:
    """Split "host:port" or "port" into (host, port); raise CommandError when it is neither."""
    problem = (
        f"Invalid --addr {value!r}: use HOST:PORT or PORT, such as 127.0.0.1:8000, "
        "0.0.0.0:8000, [::1]:8000 or 8000."
    )
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        host = DEFAULT_HOST
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"{problem} The port must be a number from 1 to 65535.")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise CommandError(problem) from None
    elif re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise CommandError(problem) from None
    elif not _HOSTNAME.match(host):
        raise CommandError(problem)
    return host, int(port)


def local_url(host: str, port: int) -> str:
    """The URL this machine reaches a server listening on host:port at (loopback for every
    interface)."""
    shown = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
    return f"http://{shown}:{port}"


def curl_example(secret: str, base: str) -> str:
    """A shell command sending one Segment track call to `base` with the write key `secret`
    (made of letters, digits, "_" and "-": safe in single quotes)."""
    call = {
        "type": "track",
        "event": "Signed In",
        "userId": "usr_8Kq2Lm",
        "properties": {"user_id": "usr_8Kq2Lm", "login_method": "password"},
    }
    body = json.dumps({"batch": [call]})
    return f"curl -u '{secret}:' -H 'Content-Type: application/json' -d '{body}' {base}/v1/batch"


class RequestHandler(WSGIRequestHandler):
    """Closes its thread's database connections after each request.

    The development server serves each client connection on a thread of its own, and each
    thread opens its own database connection. CONN_MAX_AGE keeps a connection for the next
    request of the same thread, but nothing closes it when the thread ends, nor while the
    thread waits on a kept-alive client: a few busy clients would run the database out of
    connections. Here a connection lives as long as one request.
    """

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            connections.close_all()


class Server(WSGIServer):
    """Django's development server (runserver adds a thread per client connection) with
    `RequestHandler`: the database holds one connection per request being answered, not one
    per thread or client that has come and gone."""

    def __init__(self, server_address, handler_class, *args, **kwargs) -> None:
        # runserver passes Django's WSGIRequestHandler, which RequestHandler extends.
        super().__init__(server_address, RequestHandler, *args, **kwargs)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        # The listening thread answers nothing itself: the connection of start-up checks would
        # only sit idle for the server's lifetime.
        connections.close_all()
        super().serve_forever(poll_interval)


def runserver_command() -> BaseCommand:
    """The installed `runserver` (whitenoise's, which leaves static files to the app), serving
    with `Server`."""
    command = load_command_class(get_commands()["runserver"], "runserver")
    command.server_cls = Server
    return command


class Command(BaseCommand):
    help = (
        "Run the catalog on this machine: migrate the database, collect static files (unless "
        "DEBUG), load the demo catalog into an empty database, make sure an admin account "
        "exists, then serve HTTP. For a trial; use gunicorn behind a proxy in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr",
            default=DEFAULT_ADDR,
            help=(
                f"Address to listen on, as HOST:PORT or PORT (default {DEFAULT_ADDR}). Use "
                "0.0.0.0:PORT or [::]:PORT to accept connections from other machines: unless "
                "ALLOWED_HOSTS is set, the server then answers to this machine's host names "
                "and addresses too."
            ),
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help=(
                "Do not load the demo catalog. By default it is loaded when the database has "
                "no resources yet, and never over an existing catalog."
            ),
        )

    def handle(self, *args, **options) -> None:
        host, port = parse_addr(options["addr"])
        addr = f"{host}:{port}"
        accounts = self.prepare(load_demo=not options["no_demo"], verbosity=options["verbosity"])
        others = self.allow_this_machine(host)
        self.check_serving_settings(host)
        base = local_url(host, port)
        site_url_note = self.use_site_url(base, every_interface=host in EVERY_INTERFACE)
        # The product's own error pages, never Django's debug pages (module docstring).
        settings.DEBUG = False
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Event Catalog is starting on {addr}"))
        self.stdout.write(f"  Catalog:     {base}/")
        self.stdout.write(f"  Log in:      {base}/login/")
        self.stdout.write(f"  Admin:       {base}/admin/")
        self.stdout.write(f"  Healthcheck: {base}/healthcheck")
        if others:
            urls = ", ".join(f"http://{other}:{port}/" for other in others)
            self.stdout.write(f"  From other machines: {urls}")
            self.stdout.write(
                "  (This run answers to this machine's names and addresses. Reached under "
                "another name, such as a DNS alias or the public address of a NAT? Set "
                "ALLOWED_HOSTS to the names to answer to.)"
            )
        self.stdout.write("")
        self.print_email_delivery()
        self.stdout.write(f"Links in emails: {settings.SITE_URL}/ {site_url_note}")
        self.print_demo_accounts(accounts, f"{base}/login/")
        self.print_demo_write_keys(self.demo_write_keys(), base)
        self.stdout.write("Stop it with CONTROL-C.")
        self.stdout.write("")
        call_command(runserver_command(), addr, use_reloader=False)

    def prepare(self, *, load_demo: bool, verbosity: int = 1) -> list[DemoAccount]:
        """Everything before serving: schema, static files, demo data, admin account.

        Inside the database's set-up lock (`catalog.management.setup_lock`): a second serve or
        migrate started at the same time waits, then finds it all done. Returns the demo
        accounts to print (see `catalog.demo.accounts`).
        """

        def say_waiting():
            self.stdout.write(WAITING)
            self.stdout.flush()

        with setup_lock(on_wait=say_waiting):
            return self.set_up(load_demo=load_demo, verbosity=verbosity)

    def set_up(self, *, load_demo: bool, verbosity: int) -> list[DemoAccount]:
        # The raw streams: a wrapped OutputWrapper would end migrate's "Applying ..." early.
        io = {
            "stdout": getattr(self.stdout, "_out", self.stdout),
            "stderr": getattr(self.stderr, "_out", self.stderr),
            "verbosity": verbosity,
        }
        call_command("migrate", interactive=False, **io)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, **io)
        if not load_demo:
            self.stdout.write("Not loading the demo catalog (--no-demo).")
        elif Resource.objects.exists():
            self.stdout.write("The catalog has resources already; not loading the demo.")
        else:
            try:
                counts = load_demo_catalog(
                    accounts_file=demo_accounts_file(), admin_password=admin_password_from_env()
                )
            except DemoCatalogError as error:
                raise CommandError(f"The demo catalog can't be loaded. {error}") from error
            self.stdout.write(
                self.style.SUCCESS(
                    "Loaded the demo catalog: {integrations} integrations, {event_categories} "
                    "categories, {events} events, {event_properties} properties, "
                    "{users} users; 30 days of volumes, and {received} events received "
                    "today.".format(**counts)
                )
            )
        try:
            accounts = read_demo_accounts(demo_accounts_file())
        except DemoCatalogError as error:
            self.stderr.write(self.style.WARNING(f"{error} Not showing the demo accounts."))
            accounts = []
        known = [a.username for a in accounts if a.status in ("current", "given")]
        self.ensure_admin(known=known)
        return accounts

    def ensure_admin(self, *, known: Iterable[str] = ()) -> None:
        """Create an admin account unless one exists; print how to sign in (unless it is one
        of the demo accounts whose password is `known`, printed with the others)."""
        admins = User.objects.filter(role=Role.ADMIN, is_active=True)
        if admins.filter(username__in=list(known)).exists():
            return
        existing = admins.order_by("date_joined").first()
        if existing is not None:
            self.stdout.write(
                f"An admin account exists already ({existing.username}). Forgot its password? "
                f"Run: uv run manage.py changepassword {existing.username}"
            )
            return
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stderr.write(
                self.style.WARNING(
                    f"No admin account, and the username {ADMIN_USERNAME!r} is taken by a "
                    "non-admin user. Create one with: uv run manage.py createsuperuser"
                )
            )
            return
        password = admin_password_from_env()
        from_env = password is not None
        if not from_env:
            password = secrets.token_urlsafe(12)
        user_create(
            ctx=ChangeContext.for_system(),
            username=ADMIN_USERNAME,
            role=Role.ADMIN,
            password=password,
        )
        self.stdout.write(self.style.SUCCESS("Created an admin account."))
        self.stdout.write(f"  Username: {ADMIN_USERNAME}")
        if from_env:
            self.stdout.write("  Password: the value of ADMIN_PASSWORD")
        else:
            self.stdout.write(f"  Password: {password}")
            self.stdout.write(
                "  (shown only now; change it with: uv run manage.py changepassword admin)"
            )

    def print_demo_accounts(self, accounts: list[DemoAccount], login_url: str) -> None:
        """The demo accounts, each with its password while it still has the demo's."""
        if not accounts:
            return
        rows = [("username", "role", "password")]
        for account in accounts:
            password = {
                "current": account.password,
                "changed": (
                    "password changed since the demo was loaded (forgot it? "
                    f"uv run manage.py changepassword {account.username})"
                ),
                "given": "the value of ADMIN_PASSWORD",
                "inactive": "(deactivated)",
            }[account.status]
            rows.append((account.username, account.role, password))
        widths = [max(len(row[column]) for row in rows) for column in (0, 1)]
        self.stdout.write("")
        self.stdout.write(f"Demo accounts: log in at {login_url} as")
        for username, role, password in rows:
            self.stdout.write(f"  {username:<{widths[0]}}  {role:<{widths[1]}}  {password}")
        self.stdout.write(
            f"The passwords are kept in {demo_accounts_file()} (readable by you only). Change "
            "them before the catalog holds anything real: uv run manage.py changepassword admin"
        )
        self.stdout.write("")

    def demo_write_keys(self) -> list[DemoWriteKey]:
        """The demo's write keys (see `catalog.demo.accounts`); a warning if unreadable."""
        try:
            return read_demo_write_keys(demo_accounts_file())
        except DemoCatalogError as error:
            self.stderr.write(self.style.WARNING(f"{error} Not showing the demo write key."))
            return []

    def print_demo_write_keys(self, keys: list[DemoWriteKey], base: str) -> None:
        """Each demo write key that is not revoked, with a curl command that sends an event."""
        for key in keys:
            if key.status == "revoked":
                self.stdout.write(
                    f"The demo write key of {key.integration} ({key.prefix}) has been revoked."
                )
                continue
            self.stdout.write(f"Demo write key of {key.integration}: {key.secret}")
            self.stdout.write("Send it an event (see docs/INGESTION.md):")
            self.stdout.write(f"  {curl_example(key.secret, base)}")
            self.stdout.write("")

    def use_site_url(self, base: str, *, every_interface: bool) -> str:
        """Links in emails go to `base`, the address served, unless SITE_URL is set in the
        environment. Returns a note saying where the links' address comes from."""
        if "SITE_URL" in os.environ:
            return "(from SITE_URL)"
        settings.SITE_URL = base
        if every_interface:
            return (
                "(this machine's own address, as the server listens on every interface: set "
                "SITE_URL to the address other machines use)"
            )
        return "(the address served; set SITE_URL for another)"

    def print_email_delivery(self) -> None:
        """Where emails go, when they are kept as files (no EMAIL_URL)."""
        if settings.EMAIL_BACKEND == "catalog.notifications.mailbox.EmailBackend":
            self.stdout.write(
                f"Emails: kept as files in {settings.EMAIL_MAILBOX_DIR}, one line here for "
                "each (set EMAIL_URL to send them)"
            )

    def allow_this_machine(self, host: str) -> list[str]:
        """Listening on every interface with ALLOWED_HOSTS not set (it defaults to localhost
        only): answer, in this process, to this machine's names and addresses too, which
        other machines use. Returns the hosts added."""
        if host not in EVERY_INTERFACE or "ALLOWED_HOSTS" in os.environ:
            return []
        # 0.0.0.0 is every IPv4 interface; [::] every interface, of both kinds on most systems.
        hosts = machine_hosts(ipv6=host == "[::]")
        added = [name for name in hosts if not validate_host(name, settings.ALLOWED_HOSTS)]
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, *added]
        return added

    def check_serving_settings(self, host: str) -> None:
        """Warn about settings that would make the server answer 400s or redirect to HTTPS."""
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]  # What Django allows then.
        if host not in EVERY_INTERFACE and not validate_host(host, allowed):
            self.stderr.write(
                self.style.WARNING(
                    f"{host} is not in ALLOWED_HOSTS: requests to it get 400 Bad Request."
                )
            )
        if settings.SECURE_SSL_REDIRECT:
            self.stderr.write(
                self.style.WARNING(
                    "SECURE_SSL_REDIRECT is on but this server speaks plain HTTP: browsers get "
                    "redirected to https://. Put a TLS proxy in front, or set "
                    "SECURE_SSL_REDIRECT=0 for a local trial."
                )
            )
