"""gunicorn settings for production: `uv run gunicorn -c gunicorn.conf.py config.wsgi`.

Every value can be changed from the environment (the defaults are what bench/api.py
--throughput measured best on a 2-core machine; see docs/PERFORMANCE.md):

    WEB_CONCURRENCY           workers; default one per core (the cores this process may use).
                              A request is mostly Python (5-10x its time in PostgreSQL), so
                              more workers than cores only take turns on them: on 2 quiet
                              cores, 2 workers served more than 3 or 5 (docs/PERFORMANCE.md).
                              With the database on other machines, try cores + 1 or more.
    GUNICORN_BIND             address to listen on, default 127.0.0.1:8000 (put a buffering
                              proxy such as nginx in front: sync workers serve one request at a
                              time and must not wait on slow clients); 0.0.0.0:8000 in a
                              container, or unix:/run/event-catalog.sock
    GUNICORN_ACCESS_LOG       "-" for an access log on stdout, a file path, or empty (the
                              default): no access log, the proxy keeps one. Either way it holds
                              no credentials (config/webserver.py): no user name (a write key
                              on Segment's endpoints), no key headers, no unsubscribe tokens
    GUNICORN_LOG_LEVEL        error log level (stderr), default info
    GUNICORN_TIMEOUT          seconds a request may take before its worker is restarted, 30
                              (keep DATABASE_STATEMENT_TIMEOUT, 20, below it: a slow query then
                              answers 503 before its worker is killed)
    GUNICORN_MAX_REQUESTS     requests a worker serves before it is replaced (bounds memory
                              growth), default 10000, plus up to GUNICORN_MAX_REQUESTS_JITTER
                              (1000) so the workers don't all restart at once; 0 turns it off
    GUNICORN_PRELOAD          1 (default): load Django once in the master, then fork the workers
                              (they share its memory and start in milliseconds); 0: each worker
                              loads the app itself
    GUNICORN_GC_FREEZE        1 (default, with preload): move everything loaded at start-up out
                              of the garbage collector's reach before forking, so collections
                              don't touch (and copy) the shared pages
    GUNICORN_CONTROL_SOCKET   path of gunicorn's control socket (`gunicornc`); off by default
    GUNICORN_LIMIT_REQUEST_LINE  longest request line (method, URL with its query string,
                              protocol) in bytes: 8190 (default) is gunicorn's largest finite
                              value, and nginx's default buffer; 0 lets gunicorn read lines of
                              up to 1 MB. Longer resource queries go in a POST body
                              (/api/v1/resource/catalog/query). Past it, and past gunicorn's
                              header limits, the answer is JSON (414 or 431), not an HTML page
"""

import gc
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in {"0", "false", "no", "off"}


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"]
workers = _env_int("WEB_CONCURRENCY", _cores())
# gunicorn's sync worker, answering requests over its size limits in JSON.
worker_class = "config.webserver.JsonErrorsSyncWorker"
limit_request_line = _env_int("GUNICORN_LIMIT_REQUEST_LINE", 8190)

timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30  # seconds a stopping worker gets to finish its request
keepalive = 5  # only for workers that keep connections (not sync); a proxy's upstream pool

max_requests = _env_int("GUNICORN_MAX_REQUESTS", 10_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 1_000) if max_requests else 0

preload_app = _env_flag("GUNICORN_PRELOAD", True)
_gc_freeze = _env_flag("GUNICORN_GC_FREEZE", True) and preload_app

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "").strip() or None
# The combined log format without the user name (on Segment's endpoints, a write key); the
# logger also blanks it, key headers and unsubscribe tokens in any format an operator picks.
access_log_format = '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
logger_class = "config.webserver.CredentialFreeLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "").strip() or "info"

# The heartbeat file each worker touches: in memory, not on a disk that may stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip() or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket


def when_ready(server):
    """In the master, once the app is loaded (preload) and before the first fork."""
    if not preload_app:
        return
    # Loading the app must not leave a database connection a fork would share.
    from django.db import connections

    connections.close_all()
    if _gc_freeze:
        gc.collect()
        gc.freeze()
        server.log.info(
            "gc.freeze(): %d start-up objects out of the collector", gc.get_freeze_count()
        )
