from phr.models.access_log import RecordAccess, ShareLink
from phr.models.audit import AuditEvent
from phr.models.break_glass import BreakGlassGrant
from phr.models.exports import ExportJob
from phr.models.fhir import Connection, FhirEndpoint
from phr.models.keys import DataKey
from phr.models.notices import PersonNotice
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
from phr.models.tlog import LogCheckpoint, LogEntry, LogHash, LogName, LogState

__all__ = [
    "AuditEvent",
    "BreakGlassGrant",
    "Connection",
    "DataKey",
    "ExportJob",
    "FhirEndpoint",
    "FhirResource",
    "FhirResourceVersion",
    "Identifier",
    "LogCheckpoint",
    "LogEntry",
    "LogHash",
    "LogName",
    "LogState",
    "Membership",
    "Organisation",
    "Person",
    "PersonNotice",
    "Proxy",
    "RecordAccess",
    "RecordDeletion",
    "ResourceIndex",
    "ShareLink",
    "SyncRun",
    "User",
]
