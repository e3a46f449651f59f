"""The forms of the catalog pages: browse filters, the resource editor, settings."""

import json

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse

from catalog.filtersets import EVENT_SORTS, NEVER
from catalog.models import (
    Collection,
    DataType,
    EmailFrequency,
    EntityType,
    Integration,
    Resource,
    Tag,
    Team,
    User,
)
from catalog.models.text import DEFINITION_MAX_LENGTH, definition_length, description_length
from catalog.policy import Action, collections_visible_to, may, resources_visible_to

from .login_throttle import ThrottledLoginMixin
from .pickers import by_name
from .value_lists import ValueListField, parse_values, show_values

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
#: The events list's orders, as its "Sort by" menu offers them (the API takes the same).
SORTS = [(value, label) for value, (label, _how) in EVENT_SORTS.items()]
NOT_SEEN = [
    ("", "Any time"),
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (NEVER, "Never seen"),
]


#: How a filter's menu names an applied id that names nothing (a deleted tag).
NOT_FOUND = "(not found)"


class NoColonLabels:
    """Labels read "Owners", not "Owners:": they are the fields' accessible names."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(ThrottledLoginMixin, NoColonLabels, AuthenticationForm):
    """The catalog pages' login."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, throttled like the catalog pages' one."""


def _normalise_newlines(value: str) -> str:
    """Browsers send textarea lines ending in CRLF; the catalog stores LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def definition_text(value: str) -> str:
    """A definition as the catalog stores it, or the message saying it is too long (counted
    as stored: a line break is one character, however the browser sent it)."""
    text = _normalise_newlines(value)
    definition_length(text)
    return text


class EventFilterForm(NoColonLabels, forms.Form):
    """How the events page shows its filters; `EventFilterSet` reads and applies them (as for
    the API). Unbound: it shows the filters the list applies, an id that names nothing too."""

    integration = forms.ChoiceField(required=False)
    category = forms.CharField(required=False, widget=forms.HiddenInput)
    tag = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)
    pii = forms.ChoiceField(label="PII", choices=YES_NO, required=False)
    verified = forms.ChoiceField(choices=YES_NO, required=False)
    published = forms.ChoiceField(choices=YES_NO, required=False)
    not_seen_days = forms.ChoiceField(label="Not seen for", choices=NOT_SEEN, required=False)
    subscribed = forms.BooleanField(label="Only events I follow", required=False)
    sort = forms.ChoiceField(label="Sort by", choices=SORTS, required=False)

    def __init__(self, *, applied: dict, user: User) -> None:
        super().__init__(initial=_shown(applied))
        integrations = Integration.objects.order_by("name").values_list("pk", "name")
        tags = by_name(Tag.objects.all()).values_list("pk", "title")
        owners = User.objects.filter(is_active=True).only(
            "id", "username", "first_name", "last_name"
        )
        self._offer("integration", [("", "All integrations"), *_options(integrations)])
        self._offer("tag", [("", "All tags"), *_options(tags)])
        self._offer("owner", [("", "Anyone"), ("me", "Me"), *people_choices(owners)])
        self._offer("not_seen_days", NOT_SEEN)
        if not user.can_edit_catalog:
            del self.fields["published"]  # Viewers see published events only.

    def _offer(self, name: str, choices: list) -> None:
        """The field's choices, plus the one applied when it isn't among them (a deleted
        tag, a number of days the menu lacks), so the form never hides a filter."""
        chosen = self.initial.get(name, "")
        if chosen and chosen not in {str(value) for value, _label in choices}:
            label = f"{chosen} days" if name == "not_seen_days" else NOT_FOUND
            choices = [*choices, (chosen, label)]
        self.fields[name].choices = choices


def people_choices(users) -> list[tuple[str, str]]:
    """(id, name) of `users`, by the name people read (their full name, or the username)."""
    return sorted(((str(user.pk), str(user)) for user in users), key=lambda c: c[1].lower())


def _options(rows) -> list[tuple[str, str]]:
    return [(str(pk), label) for pk, label in rows]


def _shown(applied: dict) -> dict:
    """The filters `EventFilterSet` applied (its cleaned data), as the form's fields show them."""
    flag = {True: "yes", False: "no", None: ""}
    shown = {
        "integration": applied.get("integration") or applied.get("integration_id"),
        "category": applied.get("category") or applied.get("parent_id"),
        "tag": applied.get("tag"),
        "owner": applied.get("owner"),
        "not_seen_days": applied.get("not_seen_days"),
        "sort": applied.get("sort"),
    }
    shown = {name: "" if value is None else str(value) for name, value in shown.items()}
    shown.update({name: flag[applied.get(name)] for name in ("pii", "verified", "published")})
    shown["subscribed"] = bool(applied.get("subscribed"))
    return shown


#: What each relation is for: its help text on the edit form.
RELATION_HELP = {
    "owners": "The people responsible for it; they hear of every change.",
    "teams": "The teams that send or use it.",
    "tags": "Free labels to find and group it by.",
    "collections": "The curated collections it belongs to.",
}


class PickerSelect(forms.SelectMultiple):
    """A multiple select that picker.js turns into a search-as-you-type picker with chips
    (`data-picker` names the kind); without JavaScript it stays a plain multiple select.
    Tags' options carry their colour (`data-color`) for the swatches."""

    def __init__(self, kind: str, attrs=None) -> None:
        super().__init__(attrs={"data-picker": kind, "size": 6, **(attrs or {})})
        self.kind = kind

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        color = getattr(instance, "color", None)
        if color:
            option["attrs"]["data-color"] = color
        username = getattr(instance, "username", None)
        if username and username != label:
            option["attrs"]["data-hint"] = username
        return option


class ResourceEditForm(NoColonLabels, forms.Form):
    """What a steward edits on a resource's page; saved through `resource_update`.

    An event also has its category; a property its data type, required flag, allowed values
    and examples (each list typed one value per line, see `catalog.web.value_lists`)."""

    title = forms.CharField(max_length=255)
    parent = forms.ModelChoiceField(
        Resource.objects.none(),
        label="Category",
        empty_label=None,
        required=False,
        help_text="Move the event to another category of its integration.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A one-line summary, shown in lists and search results.",
    )
    definition = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}),
        help_text=(
            "Full documentation, in Markdown: headings, lists, tables, links, `code`; "
            f"at most {DEFINITION_MAX_LENGTH:,} characters."
        ),
    )
    data_type = forms.ChoiceField(
        label="Data type",
        choices=DataType.choices,
        required=False,
        help_text="What the property's value is; tracked events are checked against it.",
    )
    required = forms.BooleanField(required=False, help_text="Every event must send it.")
    allowed_values = ValueListField(
        label="Allowed values",
        help_text=(
            "The only values it may take, one per line (empty: any value). Numbers and "
            'true/false follow the data type; or paste a JSON list, such as ["a", "b"].'
        ),
    )
    examples = ValueListField(
        label="Examples",
        help_text="Typical values, one per line, or a JSON list.",
    )
    pii = forms.BooleanField(
        label="PII", required=False, help_text="Holds personally identifiable information."
    )
    verified = forms.BooleanField(required=False, help_text="Checked by a data steward.")
    published = forms.BooleanField(required=False, help_text="Visible to viewers.")
    owners = forms.ModelMultipleChoiceField(
        User.objects.none(), required=False, widget=PickerSelect("owners")
    )
    teams = forms.ModelMultipleChoiceField(
        Team.objects.order_by("name"), required=False, widget=PickerSelect("teams")
    )
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.order_by("title"), required=False, widget=PickerSelect("tags")
    )
    collections = forms.ModelMultipleChoiceField(
        Collection.objects.none(), required=False, widget=PickerSelect("collections")
    )
    #: When the resource was last changed as the form was loaded: a save on top of someone
    #: else's newer change is stopped instead of silently undoing it.
    loaded = forms.CharField(required=False, widget=forms.HiddenInput)

    #: The fields above, in the order the pipeline's diff and the form share.
    SCALARS = ("title", "description", "definition", "pii", "verified", "published")
    #: Only events have a category to move to; only properties these.
    EVENT_FIELDS = ("parent",)
    PROPERTY_FIELDS = ("data_type", "required", "allowed_values", "examples")
    VALUE_LISTS = ("allowed_values", "examples")
    RELATIONS = ("owners", "teams", "tags", "collections")

    def __init__(self, *args, user: User, resource: Resource, **kwargs) -> None:
        self.resource = resource
        kind = resource.entity_type
        self.kind_fields = (
            self.EVENT_FIELDS
            if kind == EntityType.EVENT
            else self.PROPERTY_FIELDS
            if kind == EntityType.EVENT_PROPERTY
            else ()
        )
        initial = {name: getattr(resource, name) for name in (*self.SCALARS, *self.kind_fields)}
        initial["loaded"] = self.version(resource)
        for name in self.VALUE_LISTS:
            if name in initial:
                initial[name] = show_values(initial[name], resource.data_type)
        if "parent" in initial:
            initial["parent"] = resource.parent_id
        for name in self.RELATIONS:
            initial[name] = [str(pk) for pk in resource.relation_ids[name]]
        super().__init__(*args, initial=initial, **kwargs)
        for name in (*self.EVENT_FIELDS, *self.PROPERTY_FIELDS):
            if name not in self.kind_fields:
                del self.fields[name]
        if "parent" in self.fields:
            # The visible categories of its integration (and its own, whatever it is).
            self.fields["parent"].queryset = (
                resources_visible_to(user, EntityType.EVENT_CATEGORY)
                .filter(Q(integration_id=resource.integration_id) | Q(pk=resource.parent_id))
                .only("id", "title")
                .order_by("title", "id")
            )
        # Inactive users stay choosable while they own it, so saving keeps them.
        self.fields["owners"].queryset = by_name(
            User.objects.filter(Q(is_active=True) | Q(pk__in=resource.relation_ids["owners"]))
        )
        self.fields["teams"].queryset = by_name(Team.objects.all())
        self.fields["tags"].queryset = by_name(Tag.objects.all())
        self.fields["collections"].queryset = by_name(collections_visible_to(user))
        for name in self.RELATIONS:
            self.fields[name].help_text = RELATION_HELP[name]
            self.fields[name].widget.attrs["data-picker-url"] = reverse("web:picker", args=[name])
        if may(user, Action.ADD, Tag):
            self.fields["tags"].widget.attrs["data-picker-create"] = reverse(
                "web:picker", args=["tags"]
            )

    @property
    def scalar_names(self) -> tuple[str, ...]:
        """The plain fields of this resource's kind, in the diff's order."""
        return (*self.SCALARS, *self.kind_fields)

    @staticmethod
    def version(resource: Resource) -> str:
        return resource.updated_at.isoformat()

    def is_stale(self) -> bool:
        """Whether the resource changed since the form was loaded (by someone else)."""
        loaded = self.cleaned_data.get("loaded")
        return bool(loaded) and loaded != self.version(self.resource)

    def reload_version(self) -> None:
        """Take the current version, so that saving again (after checking) goes through."""
        self.data = self.data.copy()
        self.data["loaded"] = self.version(self.resource)

    def clean_description(self) -> str:
        description = _normalise_newlines(self.cleaned_data["description"]).strip()
        description_length(description)
        return description

    def clean_definition(self) -> str:
        return definition_text(self.cleaned_data["definition"])

    def clean(self) -> dict:
        """Read the value lists with the data type chosen (the property's, if none is): a
        list left as it was shown keeps the stored values, whatever they are."""
        cleaned = super().clean()
        # A field the browser didn't send (a client posting the older form) keeps its value.
        for name in ("data_type", *self.VALUE_LISTS):
            if name in self.fields and name not in self.data:
                cleaned[name] = self.initial[name]
        if "parent" in self.fields and cleaned.get("parent") is None and "parent" in cleaned:
            cleaned["parent"] = self.resource.parent
        if "data_type" in self.fields and not cleaned.get("data_type"):
            cleaned["data_type"] = self.resource.data_type
        data_type = cleaned.get("data_type") or self.resource.data_type
        for name in self.VALUE_LISTS:
            if name not in self.fields or name not in cleaned:
                continue
            text = _normalise_newlines(cleaned[name]).strip()
            if text == _normalise_newlines(self.initial[name]).strip():
                cleaned[name] = getattr(self.resource, name)
                continue
            try:
                cleaned[name] = parse_values(text, data_type)
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned

    def changes(self) -> dict:
        """Only what differs from the resource as it was loaded: the pipeline records these."""
        data = {}
        for name in self.scalar_names:
            value, stored = self.cleaned_data[name], getattr(self.resource, name)
            if name == "parent":
                if value.pk != self.resource.parent_id:
                    data[name] = value
            elif name in self.VALUE_LISTS:
                if json.dumps(value) != json.dumps(stored):
                    data[name] = value
            elif value != stored:
                data[name] = value
        for name in self.RELATIONS:
            chosen = sorted(str(obj.pk) for obj in self.cleaned_data[name])
            if chosen != sorted(str(pk) for pk in self.resource.relation_ids[name]):
                data[name] = chosen
        return data


class ApiKeyForm(NoColonLabels, forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=200,
        help_text="What the key is for, such as “CI schema check”.",
    )


class EmailPreferenceForm(NoColonLabels, forms.Form):
    email_frequency = forms.ChoiceField(
        label="Email me about changes",
        choices=EmailFrequency.choices,
        widget=forms.RadioSelect,
    )
