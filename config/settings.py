"""Event Catalog settings, read from the environment.

Every value has a default that is safe for a trial on one machine (SQLite, local memory cache,
console email, tasks in the background). Production sets DJANGO_DEBUG=0, SECRET_KEY, DATABASE_URL,
ALLOWED_HOSTS and friends; see README.md for the full table.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string in production, "
            "or set DJANGO_DEBUG=1 for a local trial."
        )
    SECRET_KEY = "django-insecure-event-catalog-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "axes",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A database outage or a statement past DATABASE_STATEMENT_TIMEOUT: a 503, not a 500.
    "catalog.database_errors.DatabaseTroubleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "catalog.web.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "catalog.web.login_throttle.RememberLoginBrowserMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: a SQLite file in DATA_DIR unless DATABASE_URL says otherwise (postgres://: psycopg 3).
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'event-catalog.sqlite3'}"
    ),
}
_sqlite = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# Keep server connections for a minute (a new PostgreSQL connection costs milliseconds per
# request), checked before reuse; SQLite connections are free to open.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE", default=0 if _sqlite else 60
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: bind parameters on the server and prepare a statement after its 5th run on a
# connection, so it is planned once (70% less database CPU for an event by id; see
# docs/PERFORMANCE.md). Off by default, as in Django: a statement then takes at most 65,535
# parameters, which bulk admin actions over more rows than that exceed, and PgBouncer before
# 1.24 (or 1.21-1.23 without max_prepared_statements) loses prepared statements between
# transactions.
_postgresql = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
if _postgresql and env.bool("DATABASE_PREPARED_STATEMENTS", default=False):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
if _sqlite:
    # WAL lets the web server read while a worker writes; IMMEDIATE avoids "database is locked"
    # errors when two writers start a transaction at the same time.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# PostgreSQL: the longest one statement of a web request may run, in seconds (0: no limit).
# Set per connection by config/wsgi.py (gunicorn, serve), so migrations, workers and commands
# run unlimited; a request past it answers 503 instead of holding a worker and a database CPU.
# Below gunicorn's 30-second worker timeout, so the client hears why before the worker dies.
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=20)
if not 0 <= DATABASE_STATEMENT_TIMEOUT < 2_147_483:  # PostgreSQL's largest, in milliseconds
    raise ImproperlyConfigured(
        "DATABASE_STATEMENT_TIMEOUT is in seconds: 0 (no limit) or more, up to 24 days."
    )

if DATABASES["default"]["NAME"] == str(DATA_DIR / "event-catalog.sqlite3"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "catalog.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
# Whitenoise serves static files from the apps' folders (no collectstatic) exactly when the
# settings say DEBUG: fixed here, so `serve` can turn Django's debug pages off for its process
# (settings.DEBUG = False) and still serve the files it did not collect.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Cache (also used for rate limits): local memory unless CACHE_URL or REDIS_URL is set.
_cache_url = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
CACHES = {
    "default": env.cache_url_config(_cache_url)
    if _cache_url
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "event-catalog",
    }
}

# Email: unless EMAIL_URL is set, each message is kept as a file in EMAIL_MAILBOX_DIR
# (DATA_DIR/emails/*.eml, opened by any mail program) and logged in one line: who, what, which
# file (catalog.notifications.mailbox). SMTP: smtp://user:pass@host:25 (plain),
# smtp+tls://user:pass@host:587 (STARTTLS) or smtp+ssl://user:pass@host:465 (implicit TLS;
# smtps:// means the same here, although django-environ alone would read it as STARTTLS).
# Percent-encode "@", ":" and "/" in the user name and password. consolemail:// prints whole
# messages.
_email_url = env.str("EMAIL_URL", default="")
_email_scheme = _email_url.partition("://")[0].lower()
_email = env.email_url_config(_email_url or "consolemail://")
EMAIL_BACKEND = (
    _email["EMAIL_BACKEND"] if _email_url else "catalog.notifications.mailbox.EmailBackend"
)
EMAIL_MAILBOX_DIR = DATA_DIR / "emails"
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_SSL = _email_scheme in ("smtp+ssl", "smtps")
EMAIL_USE_TLS = _email_scheme == "smtp+tls"
EMAIL_PORT = _email["EMAIL_PORT"] or (465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
if _email_scheme == "filemail":
    EMAIL_FILE_PATH = "/" + _email["EMAIL_FILE_PATH"]
# Seconds before a silent mail server counts as down, so it can't hang a worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Event Catalog <catalog@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Where people reach the catalog: links in emails (a resource, unsubscribe) start with it.
# Unless it is set, `manage.py serve` sets it to the address it listens on, for its process.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, not {SITE_URL!r}.")

# Ingestion: each write key may send INGEST_RATE_PER_SECOND requests a second, in bursts of up
# to INGEST_BURST (a token bucket shared by all web processes through the cache above).
INGEST_RATE_PER_SECOND = env.float("INGEST_RATE_PER_SECOND", default=100)
INGEST_BURST = env.int("INGEST_BURST", default=500)
# Distinct violations (event, property, kind) an integration keeps; further distinct ones are
# counted together in one "violation_limit" row, so a sender of ever-new names can't grow the
# table without bound. Deleting resolved violations in the admin makes room.
INGEST_MAX_VIOLATIONS = env.int("INGEST_MAX_VIOLATIONS", default=10_000)
if INGEST_MAX_VIOLATIONS < 1:
    raise ImproperlyConfigured("INGEST_MAX_VIOLATIONS must be at least 1.")

# Plan imports (POST /api/v1/plan/import and /plan/check): the largest file taken, as a request
# body or a multipart upload. 64 MiB holds a plan of 10,000 events and 100,000 properties in
# every format; Django's DATA_UPLOAD_MAX_MEMORY_SIZE still bounds every other request.
PLAN_IMPORT_MAX_BYTES = env.int("PLAN_IMPORT_MAX_BYTES", default=64 * 1024 * 1024)
# Larger files are imported (or compared, in a dry run) in the background: 202, then
# GET /api/v1/plan/imports/{id}. At about 2 s per MiB, 1 MiB keeps a request to a few seconds;
# it is also the largest body of sample calls `POST /api/v1/plan/check` takes.
PLAN_IMPORT_SYNC_MAX_BYTES = env.int("PLAN_IMPORT_SYNC_MAX_BYTES", default=1024 * 1024)
if PLAN_IMPORT_MAX_BYTES < 1 or PLAN_IMPORT_SYNC_MAX_BYTES < 1:
    raise ImproperlyConfigured(
        "PLAN_IMPORT_MAX_BYTES and PLAN_IMPORT_SYNC_MAX_BYTES must be at least 1."
    )

# Background tasks (sending notification emails): by default on a thread of the process that
# enqueues them, so no request waits for the mail server; "database" stores them for
# `manage.py db_worker` (production). Any dotted path to a django-tasks backend works too.
_TASK_BACKENDS = {
    "background": "catalog.background.BackgroundBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
_task_backend = env.str("TASKS_BACKEND", default="background")
if _task_backend == "immediate":
    raise ImproperlyConfigured(
        "TASKS_BACKEND=immediate is no longer offered: it sent a change's emails inside the "
        "request, which then waited for the mail server. Use background (the default: a "
        "thread of the web process) or database (with `manage.py db_worker`)."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS.get(_task_backend, _task_backend)}}

# Whole days (UTC) the received-event log keeps before `manage.py purge_event_log` (run it
# daily from cron, or let the purge task reschedule itself) removes them; payloads may hold
# personal data, so keep no more than you need.
EVENT_LOG_RETENTION_DAYS = env.int("EVENT_LOG_RETENTION_DAYS", default=7)
if EVENT_LOG_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("EVENT_LOG_RETENTION_DAYS must be at least 1.")

# Security: strict unless debugging. Behind a TLS-terminating proxy, set
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django knows the request was HTTPS.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthcheck/?$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if _proxy_header := env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The catalog pages' own login, for every role; the admin keeps its login page.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, see catalog/web/login_throttle.py): after LOGIN_FAILURE_LIMIT
# failed logins for a user name, or from an address, both login pages refuse that user name,
# or that address, for LOGIN_COOLOFF_MINUTES (a browser where the user logged in before
# still may). Failures are kept in the database, which every web process shares. Behind
# proxies, set TRUSTED_PROXY_COUNT to how many of them append to X-Forwarded-For (1 for one
# nginx): the address is then read from that header, which clients could otherwise forge.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1 or TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1, "
        "TRUSTED_PROXY_COUNT at least 0."
    )
AUTHENTICATION_BACKENDS = [
    "catalog.web.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "catalog.web.login_throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = "catalog.web.login_throttle.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "catalog.web.login_throttle.client_address"
AXES_LOCKOUT_CALLABLE = "catalog.web.login_throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time
AXES_DISABLE_ACCESS_LOG = True  # no record of every successful login
AXES_ENABLE_ADMIN = False  # `manage.py axes_reset_username NAME` lifts a lockout
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False  # no banner on every manage.py command; failures are still logged

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "catalog.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["catalog.api.permissions.PolicyPermission"],
    "DEFAULT_PAGINATION_CLASS": "catalog.api.pagination.CatalogPagination",
    "DEFAULT_PARSER_CLASSES": [
        "catalog.api.parsers.CatalogJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "catalog.api.exceptions.api_exception_handler",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Event Catalog API",
    "DESCRIPTION": (
        "The catalog of product-analytics events: categories, events and their properties, "
        "with descriptions, markdown definitions, PII flags, owners, teams, tags, collections "
        "and subscribers. Authenticate with `Authorization: Bearer <api key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would send the schema to validator.swagger.io: nothing leaves the site.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Bodies are documented as JSON only: generated clients choke on the same schema offered
    # as form and multipart too. The API still parses those (the browsable API's HTML forms).
    "PARSER_WHITELIST": ["catalog.api.parsers.CatalogJSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "catalog.api.schema.strip_trailing_slashes",
        "catalog.tracking_api.schema.add_ingestion",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EntityTypeEnum": "catalog.models.resources.EntityType",
        "DataTypeEnum": "catalog.models.resources.DataType",
        "RoleEnum": "catalog.models.people.Role",
        "IntegrationTypeEnum": "catalog.models.integrations.IntegrationType",
    },
}
