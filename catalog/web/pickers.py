"""What the pickers of the catalog pages (catalog/static/catalog/picker.js) ask the server:
the owners, teams, tags or collections matching what was typed, and a new tag made in place.

GET /pickers/<kind>/?q=rev -> {"results": [{"value", "label", "hint", "color"}...], "more"}
  at most `LIMIT` matches, best first (names starting with the text, then containing it), in
  one query; for those who may edit the catalog (the pickers are on its forms).
POST /pickers/tags/ title=foo -> 201 {"value", "label", "color", "created": true}, through
  `workspace_object_create` (recorded in the history), for those the policy lets add tags;
  a tag of that name already there is answered (200, "created": false) instead.
"""

import hashlib

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Lower, Trim
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_http_methods

from catalog.models import ChangeSource, Resource, Tag, Team, User
from catalog.models.titles import normalize_title
from catalog.policy import Action, collections_visible_to, may
from catalog.refusals import REFUSALS, refusal_messages
from catalog.services.context import ChangeContext
from catalog.services.workspace import workspace_object_create

#: Most matches one answer holds.
LIMIT = 20
#: Longest search text read (longer text is cut: no name is that long).
MAX_QUERY = 100
#: New tags' colours, in turn by their name: distinct, each with at least 3:1 contrast on white
#: (a swatch is a graphical object, WCAG 1.4.11).
TAG_COLORS = (
    "#0b5cad",
    "#1a7f37",
    "#b42318",
    "#8250df",
    "#9a6700",
    "#bf3989",
    "#0a7a8a",
    "#cf4a00",
    "#57606a",
    "#4d2d8f",
)

#: kind -> the fields searched.
KINDS = {
    "owners": ("username", "first_name", "last_name"),
    "teams": ("name",),
    "tags": ("title",),
    "collections": ("title",),
}


def by_name(rows: QuerySet) -> QuerySet:
    """People in the order of the names they are shown by (their full name, or the username
    where none is set), case-insensitively; anything else by its title or name so too."""
    if rows.model is User:
        full = Trim(Concat("first_name", Value(" "), "last_name", output_field=CharField()))
        shown = Case(When(Q(first_name="") & Q(last_name=""), then="username"), default=full)
        return rows.annotate(shown_name=Lower(shown)).order_by("shown_name", "username", "pk")
    name = "name" if rows.model is Team else "title"
    return rows.order_by(Lower(name), name, "pk")


def _text(request, name: str) -> str:
    return request.GET.get(name, "").replace("\x00", "")[:MAX_QUERY].strip()


def _queryset(kind: str, user: User):
    if kind == "owners":
        return User.objects.filter(is_active=True).only("id", "username", "first_name", "last_name")
    if kind == "collections":
        return collections_visible_to(user).only("id", "title")
    if kind == "tags":
        return Tag.objects.only("id", "title", "color")
    return Team.objects.only("id", "name")


def _matches(kind: str, user: User, text: str) -> QuerySet:
    """The objects of `kind` matching `text`: starting with it first, then containing it."""
    rows = by_name(_queryset(kind, user))
    if not text:
        return rows
    contains, starts = Q(), Q()
    for field in KINDS[kind]:
        contains |= Q(**{f"{field}__icontains": text})
        starts |= Q(**{f"{field}__istartswith": text})
    rank = Case(When(starts, then=Value(0)), default=Value(1), output_field=IntegerField())
    ordering = rows.query.order_by
    return rows.filter(contains).annotate(rank=rank).order_by("rank", *ordering)


def option_of(obj) -> dict:
    """How a picker shows one object."""
    if isinstance(obj, User):
        label = str(obj)
        return {
            "value": str(obj.pk),
            "label": label,
            "hint": "" if label == obj.username else obj.username,
        }
    item = {"value": str(obj.pk), "label": str(obj), "hint": ""}
    if isinstance(obj, Tag):
        item["color"] = obj.color
    return item


def tag_color(title: str) -> str:
    """A new tag's colour, the same for the same name."""
    digest = hashlib.sha256(title.casefold().encode()).digest()
    return TAG_COLORS[digest[0] % len(TAG_COLORS)]


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def picker(request, kind):
    """The matches of a picker (GET), or a new tag (POST to the tags' picker)."""
    if kind not in KINDS:
        raise Http404("No such picker.")
    if not may(request.user, Action.CHANGE, Resource):
        raise PermissionDenied("Only editors and admins can change the catalog.")
    if request.method == "POST":
        if kind != "tags":
            return JsonResponse({"error": f"New {kind} are made in the admin."}, status=405)
        return _create_tag(request)
    text = _text(request, "q")
    found = list(_matches(kind, request.user, text)[: LIMIT + 1])
    return JsonResponse(
        {"results": [option_of(obj) for obj in found[:LIMIT]], "more": len(found) > LIMIT}
    )


def _create_tag(request) -> JsonResponse:
    if not may(request.user, Action.ADD, Tag):
        return JsonResponse({"error": "Only editors and admins can create tags."}, status=403)
    title = request.POST.get("title", "")
    if "\x00" in title:
        return JsonResponse({"error": "A tag's name can't contain NUL characters."}, status=400)
    title = title.strip()
    if not title:
        return JsonResponse({"error": "Type the new tag's name first."}, status=400)
    longest = Tag._meta.get_field("title").max_length
    if len(title) > longest:
        message = f"A tag's name has at most {longest} characters."
        return JsonResponse({"error": message}, status=400)
    existing = Tag.objects.filter(title__iexact=normalize_title(title)).first()
    if existing is not None:
        return JsonResponse({**option_of(existing), "created": False})
    ctx = ChangeContext.for_request(request, ChangeSource.WEB)
    try:
        tag = workspace_object_create(
            ctx=ctx, model=Tag, data={"title": title, "color": tag_color(title)}
        )
    except REFUSALS as error:
        return JsonResponse({"error": " ".join(refusal_messages(error))}, status=400)
    return JsonResponse({**option_of(tag), "created": True}, status=201)
