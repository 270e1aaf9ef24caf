from consent.models.audit import BulkDecision as BulkDecision
from consent.models.audit import BulkDecisionRun as BulkDecisionRun
from consent.models.audit import ChangeKind as ChangeKind
from consent.models.audit import ConsentChange as ConsentChange
from consent.models.audit import DecisionAudit as DecisionAudit
from consent.models.audit import DecisionChannel as DecisionChannel
from consent.models.bulk import BulkCheck as BulkCheck
from consent.models.bulk import BulkCheckFormat as BulkCheckFormat
from consent.models.bulk import BulkCheckStatus as BulkCheckStatus
from consent.models.choices import (
    ActorRole,
    Basis,
    Channel,
    DirectiveKind,
    DirectiveValue,
    PurposeClass,
)
from consent.models.clients import AccessToken, ApiClient, ApiScope, UsedAssertion
from consent.models.directives import ConsentEvent, ConsentState, Directive
from consent.models.ledger import LedgerEntry as LedgerEntry
from consent.models.ledger import Release as Release
from consent.models.notices import Notice, NoticeChannel, NoticeStatus
from consent.models.projects import ProcessingMode, Project, ProjectStatus
from consent.models.receipts import Receipt, SigningKey
from consent.models.regimes import Regime

__all__ = [
    "AccessToken",
    "ActorRole",
    "ApiClient",
    "ApiScope",
    "Basis",
    "Channel",
    "ConsentEvent",
    "ConsentState",
    "Directive",
    "DirectiveKind",
    "DirectiveValue",
    "Notice",
    "NoticeChannel",
    "NoticeStatus",
    "ProcessingMode",
    "Project",
    "ProjectStatus",
    "PurposeClass",
    "Receipt",
    "Regime",
    "SigningKey",
    "UsedAssertion",
]
