"""The limits that keep one tracker from hurting the others: body size and request rate.

Rate: a token bucket per write key (`INGEST_RATE_PER_SECOND` tokens a second, at most
`INGEST_BURST` saved up), kept in the Django cache so every web process shares it (Redis in
production; local memory in the embedded default, where there is one process). It is written
as GCRA, the token bucket's one-number form: the cache holds the time at which the bucket will
be full again. Read-then-write is not atomic across processes, so under a race a few requests
too many may pass; a limiter needs to be cheap more than it needs to be exact. (The limiter
libraries we looked at keep their own storage rather than Django's cache, or count fixed
windows instead of a bucket.)
"""

import gzip
import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

#: Largest request body, compressed or not (seed 003: 1 MB).
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    pass


def read_body(request) -> bytes:
    """The request body, gunzipped when sent so; BodyTooLarge past `MAX_BODY_BYTES`."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise BodyTooLarge
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise BadBody(f"Content-Encoding {encoding!r} isn't supported; use gzip or none.")
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        # Never inflate more than the limit: a small bomb mustn't fill the memory.
        body = decompressor.decompress(body, MAX_BODY_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as error:
        raise BadBody("The body isn't valid gzip.") from error
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge
    if not decompressor.eof:
        raise BadBody("The gzip body is truncated.")
    return body


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def take_token(key_id, *, now: float | None = None) -> Verdict:
    """Take one token from the bucket of the write key `key_id`."""
    rate = float(settings.INGEST_RATE_PER_SECOND)
    burst = max(int(settings.INGEST_BURST), 1)
    interval = 1.0 / rate
    now = time.time() if now is None else now
    cache_key = f"ingest-bucket:{key_id}"
    full_at = cache.get(cache_key)
    full_at = now if full_at is None or full_at < now else full_at
    # The bucket holds (burst - (full_at - now) / interval) tokens.
    wait = full_at - now - (burst - 1) * interval
    if wait > 1e-9:  # (sums of 1/rate aren't exact)
        return Verdict(False, max(1, math.ceil(wait)))
    full_at += interval
    cache.set(cache_key, full_at, timeout=math.ceil(full_at - now) + 1)
    return Verdict(True)
