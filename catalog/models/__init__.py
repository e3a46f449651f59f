"""Event Catalog's models, one module per part of the domain."""

from .custom import CustomProperty, CustomPropertyValue, ValueType
from .history import (
    ChangeAction,
    ChangeSet,
    ChangeSource,
    Notification,
    ObjectChange,
    ObjectType,
)
from .integrations import DISCOVERY_LIMITS, Integration, IntegrationType
from .people import ApiKey, EmailFrequency, Role, Team, User, UserGroup
from .plans import PlanImport, PlanImportStatus
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
from .tracking import (
    DailyVolume,
    IngestedMessage,
    LoggedEvent,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationKind,
    WriteKey,
)

__all__ = [
    "DISCOVERY_LIMITS",
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
    "DailyVolume",
    "DataType",
    "EmailFrequency",
    "EntityType",
    "Event",
    "EventCategory",
    "EventProperty",
    "IngestedMessage",
    "Integration",
    "IntegrationType",
    "LoggedEvent",
    "Notification",
    "ObjectChange",
    "ObjectType",
    "PlanImport",
    "PlanImportStatus",
    "Resource",
    "ResourceSeen",
    "Role",
    "Tag",
    "Team",
    "User",
    "UserGroup",
    "ValidationMode",
    "ValueType",
    "Violation",
    "ViolationKind",
    "WriteKey",
]
