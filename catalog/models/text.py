"""How long the prose the catalog stores may be.

The limits are validators on the model fields, so every writer applies them with the same
message: the services' `clean_fields`, the API's serializers (a 400 naming the field), the
admin's forms and the catalog pages. A definition's limit is the Markdown renderer's: longer
text would not be shown whole. Rows stored before a limit existed stay as they are (a page
renders their first `DEFINITION_MAX_LENGTH` characters) until someone edits the field.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.deconstruct import deconstructible

from catalog.markdown import MAX_LENGTH as DEFINITION_MAX_LENGTH

__all__ = [
    "DEFINITION_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "TextLengthValidator",
    "definition_length",
    "description_length",
]

#: A description is a summary shown in lists; this is a few pages, far more than any needs.
DESCRIPTION_MAX_LENGTH = 10_000


@deconstructible
class TextLengthValidator(MaxLengthValidator):
    """At most `limit_value` characters; the message names the field and both lengths, with
    thousands separators. A MaxLengthValidator, so the API schema states the limit."""

    def __init__(self, limit_value: int, what: str) -> None:
        super().__init__(limit_value)
        self.what = what

    def __call__(self, value) -> None:
        length = len(value)
        if length > self.limit_value:
            raise ValidationError(
                f"{self.what} can be at most {self.limit_value:,} characters long; "
                f"this one has {length:,}.",
                code=self.code,
                params={"limit_value": self.limit_value, "show_value": length},
            )

    def __eq__(self, other) -> bool:
        if not isinstance(other, TextLengthValidator):
            return NotImplemented
        return self.limit_value == other.limit_value and self.what == other.what


definition_length = TextLengthValidator(DEFINITION_MAX_LENGTH, "A definition")
description_length = TextLengthValidator(DESCRIPTION_MAX_LENGTH, "A description")
