"""How a service's refusal reads where a person acted: on the form they sent (the admin's
and the pages'), or in a message. The API answers the same refusals in its exception handler
(`catalog.api.exceptions`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from catalog.services.errors import InUse

#: What the services refuse with: invalid data, a role that may not, a row that vanished
#: meanwhile, and an object still in use.
REFUSALS = (ValidationError, PermissionDenied, ObjectDoesNotExist, InUse)
#: Said for a row deleted between the page and its answer.
GONE = "It was deleted meanwhile: nothing was saved."
#: Said for a PermissionDenied without a reason.
NOT_ALLOWED = "You may not do this."


def refusal_messages(error: Exception) -> list[str]:
    """The refusal's sentences, for a message or above a form."""
    if isinstance(error, ValidationError):
        return error.messages
    if isinstance(error, ObjectDoesNotExist):
        return [GONE]
    return [str(error) or NOT_ALLOWED]


def show_on_form(form: forms.BaseForm, error: Exception) -> None:
    """Field errors next to their fields, the rest above the form; what was typed stays."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, refusal_messages(error))


@contextmanager
def refusals_on(form: forms.BaseForm) -> Iterator[None]:
    """Run a service in the block: a refusal shows on `form` and the view goes on after the
    block (to render the form again) instead of failing with a 500."""
    try:
        yield
    except REFUSALS as error:
        show_on_form(form, error)
