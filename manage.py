#!/usr/bin/env python
"""Django's command-line utility for Event Catalog."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not any(os.environ.get(name) for name in ("SECRET_KEY", "DATABASE_URL", "DJANGO_DEBUG")):
        # Nothing configured: a one-machine trial on SQLite, in debug mode with a development
        # SECRET_KEY. A configured deployment (and config.wsgi, always) gets strict settings.
        os.environ["DJANGO_DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
