"""`manage.py migrate`, one run at a time per database (see `catalog.management.setup_lock`).

Django's migrate, unchanged, inside the database's set-up lock: a second run started while one
is migrating waits for it, then finds nothing left to apply, instead of failing on tables the
first one created.
"""

from django.core.management.commands.migrate import Command as DjangoMigrateCommand

from catalog.management.setup_lock import setup_lock

WAITING = "Another process is migrating this database; waiting for it to finish..."


class Command(DjangoMigrateCommand):
    def handle(self, *args, **options):
        def say_waiting():
            if options["verbosity"]:
                self.stdout.write(WAITING)
                self.stdout.flush()

        with setup_lock(options["database"], on_wait=say_waiting):
            return super().handle(*args, **options)
