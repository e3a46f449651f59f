"""Event Catalog's models, one module per part of the domain."""

from .custom import CustomProperty, CustomPropertyValue, ValueType
from .history import ChangeAction, ChangeSet, ChangeSource, Notification, ResourceChange
from .integrations import Integration, IntegrationType
from .people import ApiKey, EmailFrequency, Role, Team, User, UserGroup
from .resources import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    PROPERTY_ONLY_FIELDS,
    Collection,
    DataType,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Resource,
    Tag,
)

__all__ = [
    "EDITABLE_FIELDS",
    "M2M_FIELDS",
    "PROPERTY_ONLY_FIELDS",
    "ApiKey",
    "ChangeAction",
    "ChangeSet",
    "ChangeSource",
    "Collection",
    "CustomProperty",
    "CustomPropertyValue",
    "DataType",
    "EmailFrequency",
    "EntityType",
    "Event",
    "EventCategory",
    "EventProperty",
    "Integration",
    "IntegrationType",
    "Notification",
    "Resource",
    "ResourceChange",
    "Role",
    "Tag",
    "Team",
    "User",
    "UserGroup",
    "ValueType",
]
