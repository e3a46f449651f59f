"""`manage.py plan`: the tracking plan in and out, as typed code, and checked.

    manage.py plan export --format csv [--integration Web] [--output plan.csv]
    manage.py plan import plan.csv [--format csv] [--integration Web] [--mode update] [--dry-run]
    manage.py plan codegen --language typescript [--integration Web] [--output tracking-plan.ts]
    manage.py plan check samples.json [--integration Web]

Commands act as the system: they read every resource, and what they import is recorded with
source "command". `import` prints the diff as JSON; `check` exits with status 1 when a sample
breaks the plan, as a CI job needs.
"""

import json
import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.management.commands.create_write_key import find_integration
from catalog.policy import Visibility
from catalog.selectors import tracking_plan_of
from catalog.services.context import ChangeContext
from catalog.services.plan import MODES, plan_check, plan_diff, plan_import
from catalog.tracking_plan.codegen import LANGUAGES, generate
from catalog.tracking_plan.formats import FORMATS, plan_format, read_plan, several_integrations
from catalog.tracking_plan.model import PlanFileError
from catalog.tracking_plan.samples import samples_from

#: The format a file's extension suggests, when --format is not given.
BY_EXTENSION = {
    ".csv": "csv",
    ".yaml": "rudderstack",
    ".yml": "rudderstack",
    ".json": "json-schema",
}


def _listed(error: PlanFileError) -> str:
    return "\n".join("  {position}: {message}".format(**p.as_dict()) for p in error.problems)


class Command(BaseCommand):
    help = "Export, import, generate code from and check the tracking plan."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        export = actions.add_parser("export", help="Write the plan as a file.")
        export.add_argument("--format", required=True, choices=list(FORMATS))
        self._common(export)

        load = actions.add_parser("import", help="Apply a plan file to the catalog.")
        load.add_argument("file", help="The plan file; - reads standard input.")
        load.add_argument(
            "--format",
            choices=list(FORMATS),
            help="The file's format; by default from its extension "
            "(.csv, .json: json-schema, .yaml: rudderstack).",
        )
        load.add_argument(
            "--mode",
            choices=MODES,
            default="add",
            help="add: only what is new; update: also change what exists; "
            "sync: also delete what the file doesn't have. Default: add.",
        )
        load.add_argument(
            "--dry-run", action="store_true", help="Print the diff and change nothing."
        )
        load.add_argument(
            "--integration", metavar="NAME_OR_ID", help="The integration the file is for."
        )

        codegen = actions.add_parser("codegen", help="Write typed tracking code.")
        codegen.add_argument("--language", required=True, choices=list(LANGUAGES))
        self._common(codegen)

        check = actions.add_parser(
            "check", help="Check sample calls (a JSON file) against the plan; exit 1 on breaches."
        )
        check.add_argument("file", help="A JSON list of {event, properties}; - reads stdin.")
        check.add_argument("--integration", metavar="NAME_OR_ID")

    def _common(self, parser: CommandParser) -> None:
        parser.add_argument("--integration", metavar="NAME_OR_ID", help="Only this integration.")
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args, **options):
        integration = options.get("integration")
        integration = find_integration(integration) if integration else None
        action = options["action"]
        if action == "export":
            plan = tracking_plan_of(Visibility.EVERYTHING, integration)
            if problem := several_integrations(options["format"], plan):
                raise CommandError(f"{problem} Choose one with --integration.")
            self._write(plan_format(options["format"]).write(plan), options["output"])
        elif action == "codegen":
            plan = tracking_plan_of(Visibility.EVERYTHING, integration)
            self._write(generate(options["language"], plan).encode(), options["output"])
        elif action == "import":
            self._import(options, integration)
        else:
            self._check(options, integration)

    def _write(self, data: bytes, output: str | None) -> None:
        if output:
            Path(output).write_bytes(data)
        else:  # every format is UTF-8 text
            self.stdout.write(data.decode("utf-8"), ending="")

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(name).read_bytes()
        except OSError as error:
            raise CommandError(f"Can't read {name}: {error.strerror}.") from None

    def _import(self, options, integration) -> None:
        name = options["format"] or BY_EXTENSION.get(Path(options["file"]).suffix.lower())
        if name is None:
            raise CommandError("Say the file's format with --format.")
        data = self._read(options["file"])
        ctx = ChangeContext.for_system()
        try:
            plan, notices = read_plan(name, data)
            service = plan_diff if options["dry_run"] else plan_import
            diff = service(ctx=ctx, plan=plan, mode=options["mode"], integration=integration)
        except PlanFileError as error:
            problems = _listed(error)
            message = f"The file can't be imported; nothing was changed.\n{problems}"
            raise CommandError(message) from None
        except (ValidationError, PermissionDenied) as error:
            refusal = " ".join(getattr(error, "messages", None) or [str(error)])
            raise CommandError(f"Nothing was changed: {refusal}") from None
        diff.notices = [n.as_dict() for n in notices]
        self.stdout.write(json.dumps(diff.as_dict(dry_run=options["dry_run"]), indent=2))
        counts = (len(diff.created), len(diff.changed), len(diff.deleted))
        if options["dry_run"]:
            self.stderr.write(
                "Dry run: would create {}, change {}, delete {}; nothing was changed.".format(
                    *counts
                )
            )
        elif diff.change_set is None:
            self.stderr.write("Nothing to change: the catalog already holds the file's plan.")
        else:
            self.stderr.write(
                "Imported: created {}, changed {}, deleted {}".format(*counts)
                + f", as change set {diff.change_set.pk} (undo it in one step)."
            )

    def _check(self, options, integration) -> None:
        try:
            samples = samples_from(self._read(options["file"]))
        except PlanFileError as error:
            problems = _listed(error)
            raise CommandError(f"The samples can't be read.\n{problems}") from None
        breaches = plan_check(
            visibility=Visibility.EVERYTHING, samples=samples, integration=integration
        )
        for breach in breaches:
            self.stdout.write(f"{breach['position']} {breach['event']!r}:")
            for error in breach["errors"]:
                self.stdout.write(f"  {error}")
        if breaches:
            raise CommandError(
                f"{len(breaches)} of {len(samples)} samples break the plan.", returncode=1
            )
        count = len(samples)
        self.stdout.write(
            f"{count} sample{'' if count == 1 else 's'} checked: all follow the plan."
        )
