"""`manage.py create_api_key`: make a REST API key for a user, from a shell or a script.

The secret is printed once, as the last line of the output, so a script can take it with
`| tail -n 1`; only its hash is stored.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from catalog.models import Role, User
from catalog.services.context import ChangeContext
from catalog.services.keys import api_key_create
from catalog.services.workspace import user_create


class Command(BaseCommand):
    help = (
        "Create an API key for a user and print it. The key acts with the user's role; the "
        "secret is the last line of the output and is shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user",
            required=True,
            metavar="USERNAME",
            help="Username of the key's owner.",
        )
        parser.add_argument(
            "--create-user",
            action="store_true",
            help=(
                "Create the user when it does not exist (with --role and --email; the account "
                "gets no password, so it can only use API keys). An existing user is used as "
                "it is."
            ),
        )
        parser.add_argument(
            "--role",
            choices=Role.values,
            help=(
                "Role of a user created with --create-user (default viewer). For an existing "
                "user this command never changes the role: if the user has another role, it "
                "stops with an error (change roles in the admin)."
            ),
        )
        parser.add_argument(
            "--email",
            default="",
            help="Email address of a user created with --create-user.",
        )
        parser.add_argument(
            "--name",
            default="",
            metavar="LABEL",
            help='What the key is for, such as "CI checks"; shown in the admin.',
        )

    def handle(self, *args, **options) -> None:
        username = options["user"].strip()
        role = options["role"]
        if not username:
            raise CommandError("--user must not be empty.")
        if options["email"] and not options["create_user"]:
            raise CommandError("--email is only used with --create-user.")

        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                if not options["create_user"]:
                    raise CommandError(
                        f"No user {username!r}. Check the name, or pass --create-user to create it."
                    )
                try:
                    user = user_create(
                        ctx=ChangeContext.for_system(),
                        username=username,
                        role=role or Role.VIEWER,
                        email=options["email"],
                    )
                except ValidationError as error:  # A malformed username or email address.
                    raise CommandError(
                        f"Cannot create user {username!r}: {' '.join(error.messages)}"
                    ) from None
                self.stdout.write(f"Created user {user.username} with role {user.role}.")
            else:
                if role and user.role != role:
                    raise CommandError(
                        f"User {username!r} exists with role {user.role}, not {role}. This "
                        "command does not change roles; change it in the admin, or leave out "
                        "--role."
                    )
                if not user.is_active:
                    raise CommandError(
                        f"User {username!r} is inactive; its keys would not work. Activate it "
                        "in the admin first."
                    )
                if options["create_user"]:
                    self.stdout.write(f"User {user.username} exists already; using it.")
                if options["email"] and options["email"] != user.email:
                    self.stderr.write(
                        self.style.WARNING(
                            f"--email ignored: {user.username} exists already with its own address."
                        )
                    )
            key, secret = api_key_create(
                ctx=ChangeContext.for_system(), user=user, name=options["name"]
            )

        label = f" {key.name!r}" if key.name else ""
        self.stdout.write(
            f"Created API key{label} for {user.username} (role {user.role}, prefix "
            f"{key.prefix}). Copy it now, it is not shown again:"
        )
        self.stdout.write(secret)
