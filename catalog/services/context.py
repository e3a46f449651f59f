"""The change context: who is writing, through what, as part of which request.

Every service call takes one. It travels explicitly (no thread-locals), so history rows name
the actor and the API key or write key used, and all the changes of one request share its id.
"""

import re
import uuid
from dataclasses import dataclass, field

from catalog.models import ApiKey, ChangeSet, ChangeSource, Integration, User

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ChangeContext:
    """Who acts (a user, possibly through an API key; an integration's write key; or the
    system), from where (`source`), and the request id that groups the changes."""

    source: str
    user: User | None = None
    api_key: ApiKey | None = None
    integration: Integration | None = None
    request_id: str = field(default_factory=new_request_id)
    #: Ingestion discovery records history but emails nobody.
    notify: bool = True
    #: An operator's command or a background job: every permission. Only `for_system` sets it,
    #: so a request without a user is never mistaken for the system.
    system: bool = False
    #: The change set being undone: the one this context records says so.
    reverts: ChangeSet | None = None
    #: Set while an undo runs several services: their changes are gathered here and recorded
    #: as one change set (see `catalog.services.changes.Collector`).
    collector: object | None = None

    @classmethod
    def for_request(cls, request, source: str) -> "ChangeContext":
        """The context of an HTTP request: its user, the API key it used, its request id.

        A client's `X-Request-ID` is kept when it is short and plain, so its logs and our
        history can be matched; otherwise one is made (once per request).
        """
        request_id = getattr(request, "_change_request_id", None)
        if request_id is None:
            given = request.headers.get("X-Request-ID", "")
            request_id = given if _REQUEST_ID.match(given) else new_request_id()
            request._change_request_id = request_id
        auth = getattr(request, "auth", None)
        user = getattr(request, "user", None)
        return cls(
            source=source,
            user=user if user is not None and user.is_authenticated else None,
            api_key=auth if isinstance(auth, ApiKey) else None,
            request_id=request_id,
        )

    @classmethod
    def for_write_key(cls, integration: Integration, request_id: str = "") -> "ChangeContext":
        """Ingestion through an integration's write key: it may add what it discovers (see
        `catalog.policy.may_for`), recorded as the integration's, emailing nobody."""
        return cls(
            source=ChangeSource.INGEST,
            integration=integration,
            notify=False,
            **({"request_id": request_id} if request_id else {}),
        )

    @classmethod
    def for_system(cls, source: str = ChangeSource.COMMAND, **kwargs) -> "ChangeContext":
        """An operator's command or a background job: no user, every permission."""
        return cls(source=source, system=True, **kwargs)

    @property
    def is_system(self) -> bool:
        return self.system

    @property
    def actor_name(self) -> str:
        if self.user is not None:
            return str(self.user)
        if self.integration is not None:
            return f"Integration {self.integration.name}"
        return "System" if self.system else "Anonymous"
