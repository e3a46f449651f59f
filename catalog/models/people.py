"""Who works in the catalog: users with a workspace role, teams, and users' API keys."""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from .text import description_length
from .titles import NameField

__all__ = ["ApiKey", "EmailFrequency", "Role", "Team", "User", "UserGroup"]


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class EmailFrequency(models.TextChoices):
    IMMEDIATE = "immediate", "An email per change"
    DAILY = "daily", "A daily digest"


class CatalogUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person (or a service account) working in the catalog.

    The role decides what the user may do everywhere (API, pages, admin): admins manage the
    workspace, editors edit the catalog, viewers read published resources only.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", blank=True)
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        default=Role.VIEWER,
        help_text="Admins manage the workspace, editors edit the catalog, viewers only read.",
    )

    email_frequency = models.CharField(
        max_length=16,
        choices=EmailFrequency.choices,
        default=EmailFrequency.IMMEDIATE,
        help_text="How changes to subscribed resources are emailed.",
    )

    EDITABLE_FIELDS = (
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "is_staff",
        "email_frequency",
    )

    objects = CatalogUserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._loaded_role = user.__dict__.get("role")
        return user

    def save(self, *args, **kwargs) -> None:
        # The role is the one source of truth: admins are superusers (and lose it with the
        # role), editors and admins may work in the Django admin, and a user moved to the
        # viewer role loses admin access (a viewer is staff only when explicitly made so).
        self.is_superuser = self.role == Role.ADMIN
        if self.role in (Role.ADMIN, Role.EDITOR):
            self.is_staff = True
        elif getattr(self, "_loaded_role", Role.VIEWER) != Role.VIEWER:
            self.is_staff = False
        super().save(*args, **kwargs)
        self._loaded_role = self.role

    @property
    def is_catalog_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_edit_catalog(self) -> bool:
        return self.is_catalog_admin or self.role == Role.EDITOR


class Team(models.Model):
    """A named group of users; resources and integrations can belong to teams."""

    EDITABLE_FIELDS = ("name", "description", "members")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = NameField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[description_length])
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserGroup(models.Model):
    """A named group of users that can own resources, such as "Analytics engineers".

    Members of a group that owns a resource are told of its changes as its owners are. Unlike
    a team, a group is about ownership only; neither gives permissions (the role does).
    """

    EDITABLE_FIELDS = ("name", "description", "icon", "users")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = NameField(max_length=200, unique=True)
    description = models.TextField(blank=True, validators=[description_length])
    icon = models.CharField(max_length=16, blank=True, help_text="An emoji, such as 💼.")
    users = models.ManyToManyField(User, related_name="user_groups", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "group"

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A user's key for the REST API; it acts with its user's role.

    Only a SHA-256 hash of the secret is stored (the secret is random, so a slow hash adds
    nothing); the short `prefix` finds the row without scanning, and the hash is compared in
    constant time. See `catalog.services.keys`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True, help_text="What the key is used for.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
