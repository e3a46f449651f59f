"""Event Catalog's models, one module per part of the domain."""

from .integrations import Integration, IntegrationType
from .people import ApiKey, Role, Team, User
from .resources import (
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
    "ApiKey",
    "Collection",
    "DataType",
    "EntityType",
    "Event",
    "EventCategory",
    "EventProperty",
    "Integration",
    "IntegrationType",
    "Resource",
    "Role",
    "Tag",
    "Team",
    "User",
]
