"""Users and their API keys, saved and revoked through the services."""

import contextvars

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import ApiKey, User
from catalog.policy import Action, may, may_see_email
from catalog.services import keys
from catalog.services.workspace import (
    user_create,
    user_set_password,
    workspace_object_update,
)

from .base import HistoryMixin, PolicyAdminMixin, change_context
from .workspace import WorkspaceDeleteMixin

#: The request of the admin view being served; lets the password form reach the service with
#: a change context (Django builds that form without the request). Per thread and task.
_current_request: contextvars.ContextVar = contextvars.ContextVar("admin_request")


class PasswordChangeThroughService(AdminPasswordChangeForm):
    """The admin's "change password" form, saved by the user service."""

    def save(self, commit=True):
        password = (
            self.cleaned_data["password1"]
            if self.cleaned_data.get("set_usable_password", True)
            else None
        )
        request = _current_request.get()
        self.user = user_set_password(
            ctx=change_context(request), user=self.user, password=password
        )
        return self.user


class UserCreationThroughService(forms.ModelForm):
    """Add a user: username, email, role and a password, saved by the user service."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label="Password confirmation", widget=forms.PasswordInput, strip=False
    )

    class Meta:
        model = User
        fields = ["username", "email", "role"]

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise ValidationError("The two password fields didn't match.")
        from django.contrib.auth.password_validation import validate_password

        validate_password(second, User(username=self.cleaned_data.get("username", "")))
        return second


@admin.register(User)
class UserAdmin(HistoryMixin, WorkspaceDeleteMixin, PolicyAdminMixin, BaseUserAdmin):
    """Users, saved through the user services; the role decides what each may do."""

    add_form = UserCreationThroughService
    change_password_form = PasswordChangeThroughService
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Workspace",
            {
                "fields": ["role", "is_active", "is_staff", "email_frequency"],
                "description": "The role decides what the user may do everywhere. Editors "
                "and admins always have admin access; tick staff to let a viewer look. "
                "A user moved to the viewer role loses admin access.",
            },
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "role", "password1", "password2"],
            },
        )
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_list_display(self, request):
        if may_see_email(request.user, None):
            return self.list_display
        return [name for name in self.list_display if name != "email"]

    def get_search_fields(self, request):
        return ["username", "first_name", "last_name"] + (
            ["email"] if may_see_email(request.user, None) else []
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or may_see_email(request.user, obj):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "email"]})
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if change:
            data = {k: form.cleaned_data[k] for k in form.changed_data if k in User.EDITABLE_FIELDS}
            self.run_service(request, workspace_object_update, obj=obj, data=data)
            return
        created = self.run_service(
            request,
            user_create,
            username=form.cleaned_data["username"],
            email=form.cleaned_data.get("email", ""),
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password2"],
        )
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Users have no M2M fields on these forms."""

    def user_change_password(self, request, id, form_url=""):
        token = _current_request.set(request)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _current_request.reset(token)


@admin.register(ApiKey)
class ApiKeyAdmin(HistoryMixin, PolicyAdminMixin, admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key` or the API; here they are revoked.

    Admins see every key; others see and revoke only their own.
    """

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.is_catalog_admin:
            queryset = queryset.filter(user=request.user)
        return queryset

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Django offers actions only to those with a change or delete permission; revoking is
        # neither, and every staff user may revoke their own keys.
        return {"revoke": (ApiKeyAdmin.revoke, "revoke", ApiKeyAdmin.revoke.short_description)}

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset:
            if not may(request.user, Action.DELETE, key):
                raise PermissionDenied("Only admins can revoke other people's keys.")
            self.run_service(request, keys.api_key_revoke, key=key)
            revoked += 1
        self.message_user(request, f"{revoked} keys revoked.", messages.SUCCESS)
