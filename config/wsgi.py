"""WSGI entry point for the web servers: gunicorn, and `manage.py serve` (through runserver)."""

import os

from django.core.wsgi import get_wsgi_application

from config.database import limit_statement_time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Only the web processes load this module: their statements have a time limit, while
# migrations, workers and commands don't.
limit_statement_time()
