from phr.models.access_log import RecordAccess, ShareLink
from phr.models.audit import AuditEvent
from phr.models.fhir import Connection, FhirEndpoint
from phr.models.keys import DataKey
from phr.models.parties import (
    Identifier,
    Membership,
    Organisation,
    Person,
    Proxy,
    User,
)
from phr.models.records import (
    FhirResource,
    FhirResourceVersion,
    RecordDeletion,
    ResourceIndex,
    SyncRun,
)

__all__ = [
    "AuditEvent",
    "Connection",
    "DataKey",
    "FhirEndpoint",
    "FhirResource",
    "FhirResourceVersion",
    "Identifier",
    "Membership",
    "Organisation",
    "Person",
    "Proxy",
    "RecordAccess",
    "RecordDeletion",
    "ResourceIndex",
    "ShareLink",
    "SyncRun",
    "User",
]
