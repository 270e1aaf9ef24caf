from phr.models.audit import AuditEvent
from phr.models.keys import DataKey
from phr.models.parties import (
    Identifier,
    Membership,
    Organisation,
    Person,
    Proxy,
    User,
)

__all__ = ["AuditEvent", "DataKey", "Identifier", "Membership", "Organisation", "Person", "Proxy", "User"]
