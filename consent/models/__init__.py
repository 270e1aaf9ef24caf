from consent.models.choices import (
    ActorRole,
    Basis,
    Channel,
    DirectiveKind,
    DirectiveValue,
    PurposeClass,
)
from consent.models.directives import ConsentEvent, ConsentState, Directive
from consent.models.notices import Notice, NoticeChannel, NoticeStatus
from consent.models.projects import ProcessingMode, Project, ProjectStatus
from consent.models.receipts import Receipt, SigningKey
from consent.models.regimes import Regime

__all__ = [
    "ActorRole",
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
]
