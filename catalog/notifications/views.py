"""The unsubscribe link of notification emails.

The link carries a signed token, so it works without logging in. GET only asks (mail
scanners and link previews fetch links), POST unsubscribes; mail clients' one-click button
(RFC 8058) POSTs `List-Unsubscribe=One-Click` to the same URL, without a CSRF token.
"""

from django.core import signing
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from catalog.models import ChangeSource, Collection, Resource, User
from catalog.services.context import ChangeContext
from catalog.services.subscriptions import subscriptions_remove

from .links import read_unsubscribe_token

TEMPLATE = "notifications/unsubscribe.html"


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        user_id, resource_ids = read_unsubscribe_token(token)
    except signing.BadSignature:
        user = None
    else:
        user = User.objects.filter(pk=user_id).first()
    if user is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=400)
    resources = list(
        Resource.objects.filter(pk__in=resource_ids).only("id", "title", "entity_type")
    ) + list(Collection.objects.filter(pk__in=resource_ids).only("id", "title"))
    context = {"recipient": user, "resources": resources, "state": "confirm"}
    if request.method == "POST":
        ctx = ChangeContext(source=ChangeSource.EMAIL, user=user)
        subscriptions_remove(ctx=ctx, user=user, resource_ids=resource_ids)
        context["state"] = "done"
    return render(request, TEMPLATE, context)
