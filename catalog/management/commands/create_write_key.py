"""`manage.py create_write_key`: make an integration's write key, for a tracker to send events.

The secret is printed once, as the last line of the output, so a script can take it with
`| tail -n 1`; only its hash is stored.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import Integration, WriteKey
from catalog.services.context import ChangeContext
from catalog.services.writekeys import write_key_create

#: Up to this many integrations, an unknown name's error lists them all.
LISTED = 20


def find_integration(name_or_id: str) -> Integration:
    """The integration with this id (with or without dashes) or name; CommandError if none."""
    try:
        found = Integration.objects.filter(pk=uuid.UUID(name_or_id)).first()
    except ValueError:
        found = None
    found = found or Integration.objects.filter(name=name_or_id).first()
    if found is None:
        # A name typed in another case, when it names only one integration.
        matches = list(Integration.objects.filter(name__iexact=name_or_id)[:2])
        found = matches[0] if len(matches) == 1 else None
    if found is not None:
        return found
    names = list(Integration.objects.order_by("name").values_list("name", flat=True)[: LISTED + 1])
    if not names:
        hint = "There are no integrations yet: create one in the admin or with the API."
    elif len(names) <= LISTED:
        hint = "Existing integrations: " + ", ".join(repr(name) for name in names) + "."
    else:
        hint = "Check the name in the admin (Integrations)."
    raise CommandError(f"No integration {name_or_id!r}. {hint}")


class Command(BaseCommand):
    help = (
        "Create a write key for an integration and print it. Trackers send the integration's "
        "events with it; it can't read or change the catalog. The secret is the last line of "
        "the output and is shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--integration",
            required=True,
            metavar="NAME_OR_ID",
            help="Name or id of the integration the key sends events for.",
        )
        parser.add_argument(
            "--name",
            default="",
            metavar="LABEL",
            help='Where the key is used, such as "web app"; shown in the admin.',
        )

    def handle(self, *args, **options) -> None:
        wanted = options["integration"].strip()
        if not wanted:
            raise CommandError("--integration must not be empty.")
        if not wanted.isprintable():
            raise CommandError(f"No integration {wanted!r}: names have no control characters.")
        name = options["name"].strip()
        max_length = WriteKey._meta.get_field("name").max_length
        if len(name) > max_length:
            raise CommandError(f"--name is too long: at most {max_length} characters.")
        if not name.isprintable():
            raise CommandError("--name must not contain control characters.")
        integration = find_integration(wanted)
        key, secret = write_key_create(
            ctx=ChangeContext.for_system(), integration=integration, name=name
        )
        label = f" {key.name!r}" if key.name else ""
        self.stdout.write(
            f"Created write key{label} for integration {integration.name} (prefix "
            f"{key.prefix}). Copy it now: it is shown only this once and is not recoverable "
            "(you can create new keys)."
        )
        self.stdout.write(secret)
