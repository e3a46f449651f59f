"""The Django admin, set up for data stewards.

Every add, change, delete and bulk action goes through `catalog.services` with a change
context (source "admin"), so the admin obeys the same rules as the API and its changes appear
in the same history; what a user may see and do is asked of `catalog.policy`.

One module per concern; importing them registers their admins.
"""

from django.contrib import admin
from django.contrib.auth.models import Group

# The email outbox's admin lives with the rest of the notifications code.
from catalog.notifications import admin as notifications_admin  # noqa: F401

from . import people, resources, tracking, workspace  # noqa: F401

# Roles (admin, editor, viewer) decide what a user may do; Django's groups play no part.
admin.site.unregister(Group)
