"""DUO matching: do a person's consent terms allow a research purpose? (DESIGN §5)

:func:`match` is pure and deterministic: no I/O, no clock, the same inputs give the same result with
the reasons in the same order (terms in vocabulary order). Every rule is checked and every denying
reason is kept, so a citizen sees all causes, not the first. Anything the engine cannot evaluate
(no permission, a term without a rule, a modifier missing its parameter) denies: it never fails open.

Primary term (permission) against purpose type:

========  =======================================================================================
NRES      every purpose type, clinical care included.
GRU       every research type: GRU, HMB, DS, POA, MDS. Not CC (care is not research).
HMB       HMB, DS and MDS. MDS counts as methods for health: Mamori holds health data only, and
          methods work that is not about health is declared as a GRU purpose, which HMB denies.
DS(X…)    DS and MDS purposes whose every disease is one of X or lies below one in ICD-10 (purpose
          C34 under consent C00-C97 permits; purpose C00-C97 under consent C34 denies). A DS or MDS
          purpose without diseases denies (it cannot be shown to stay inside X), as does DS without X.
POA       POA only.
none      deny (``no-permission``).
========  =======================================================================================

Clinical care (purpose type CC) is permitted by NRES, or by any permission when the terms carry the
CC modifier ("clinical care also allowed"). Every other modifier still applies to clinical care
unchanged: the engine does not guess which conditions a citizen meant only for research, so CC with
IRB or PUB needs those commitments too. This keeps every modifier but CC purely restrictive.

Modifiers (each denies on its own, with its shorthand as the reason code):

- NPU: the requester is for-profit. NCU: the purpose is commercial. NPUNCU: either (one reason each).
- NMDS: an MDS purpose, unless the permission is DS and every purpose disease is within X: methods
  development is allowed only inside the bounds the other terms set (the DUOS/NIH reading), and only
  DS sets disease bounds. Under GRU, HMB or NRES, NMDS therefore denies every MDS purpose.
- GSO: the purpose is not genetic. IRB: no ethics approval. PUB: no publication commitment.
  RTN: no commitment to return derived data.
- COL: no collaborator at all; when the terms name investigators, each must be a collaborator.
- GS: a purpose region outside the listed ones, or no purpose region. An ISO 3166-2 subdivision is
  inside its country (``JP-13`` is inside ``JP``).
- TS: the purpose date is after the last day of the period (Civil Code counting, see
  :mod:`consent.duo.periods`); use on that last day is still allowed.
- US / PS / IS: the purpose's user / project / institution is absent or not listed.
- RS: a purpose topic outside the listed ones, or no topic.
- NPOA: a POA purpose.
- MOR: never denies; a permit dated before the moratorium date carries the obligation
  ``{"code": "MOR", "until": date}`` (not to publish before it). On or after that date, no obligation.
- CC: never denies (see above).

Independently of terms, a purpose dated before ``consented_at`` denies (``consent-not-in-force``):
the terms did not exist yet, and earlier terms are not known here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from consent.duo import reasons
from consent.duo.icd10 import is_within
from consent.duo.periods import time_limit_end
from consent.duo.results import MatchResult, Obligation, Reason
from consent.duo.terms import ConsentTerms, PurposeType, ResearchPurpose

Rule = Callable[[ConsentTerms, ResearchPurpose], tuple[Reason, ...]]

_NONE: tuple[Reason, ...] = ()
_RESEARCH = frozenset({PurposeType.GRU, PurposeType.HMB, PurposeType.DS, PurposeType.POA, PurposeType.MDS})
_HEALTH = frozenset({PurposeType.HMB, PurposeType.DS, PurposeType.MDS})
_DISEASE = frozenset({PurposeType.DS, PurposeType.MDS})


def match(consent: ConsentTerms, purpose: ResearchPurpose) -> MatchResult:
    """Match consent terms against a research purpose; see the module docstring for every rule.

    Raises DiseaseCodeError if a disease is not valid ICD-10 (wire input is validated before this).
    """
    found: list[Reason] = []
    if purpose.at < consent.consented_at:
        found.append(reasons.not_in_force(consent.consented_at))
    found.extend(_primary(consent, purpose))
    for modifier in consent.modifiers:
        rule = _MODIFIER_RULES.get(modifier.shorthand)
        found.extend(rule(consent, purpose) if rule is not None else (reasons.unsupported(modifier.shorthand),))
    return MatchResult.of(found, _obligations(consent, purpose))


def _within_any(disease: str, allowed: Iterable[str]) -> bool:
    return any(is_within(disease, ancestor) for ancestor in allowed)


def _diseases_outside(consent: ConsentTerms, purpose: ResearchPurpose) -> list[str]:
    return [disease for disease in purpose.diseases if not _within_any(disease, consent.diseases)]


def _primary(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    code = consent.permission_code
    if code is None:
        return (reasons.no_permission(),)
    if code == "NRES" or (purpose.type is PurposeType.CC and consent.has("CC")):
        return _NONE
    if code == "GRU":
        ok = purpose.type in _RESEARCH
        return _NONE if ok else (reasons.outside_scope(code, "研究への利用", "research use", purpose.type),)
    if code == "HMB":
        ok = purpose.type in _HEALTH
        return (
            _NONE
            if ok
            else (reasons.outside_scope(code, "健康・医療の研究", "health or medical research", purpose.type),)
        )
    if code == "DS":
        return _disease_specific(consent, purpose)
    if code == "POA":
        ok = purpose.type is PurposeType.POA
        scope_en = "population origins or ancestry research only"
        return _NONE if ok else (reasons.outside_scope(code, "祖先や集団の起源の研究だけ", scope_en, purpose.type),)
    return (reasons.unsupported(code),)


def _disease_specific(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    if purpose.type not in _DISEASE:
        scope_ja = f"{'、'.join(consent.diseases) or '特定'}の病気の研究"
        scope_en = f"research on {', '.join(consent.diseases) or 'specific diseases'} only"
        return (reasons.outside_scope("DS", scope_ja, scope_en, purpose.type),)
    if not consent.diseases or not purpose.diseases:
        return (reasons.diseases_missing("DS"),)
    outside = _diseases_outside(consent, purpose)
    return (reasons.diseases_outside(consent.diseases, outside),) if outside else _NONE


def _obligations(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Obligation, ...]:
    until = consent.parameters.moratorium_until
    if consent.has("MOR") and until is not None and purpose.at < until:
        return (Obligation("MOR", until),)
    return ()


def _npu(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    return (reasons.for_profit("NPU"),) if purpose.for_profit else _NONE


def _ncu(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    return (reasons.commercial("NCU"),) if purpose.commercial else _NONE


def _npuncu(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    found = []
    if purpose.for_profit:
        found.append(reasons.for_profit("NPUNCU"))
    if purpose.commercial:
        found.append(reasons.commercial("NPUNCU"))
    return tuple(found)


def _nmds(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    if purpose.type is not PurposeType.MDS:
        return _NONE
    disease_specific = consent.permission_code == "DS"
    if disease_specific and consent.diseases and purpose.diseases and not _diseases_outside(consent, purpose):
        return _NONE
    return (reasons.methods_development(disease_specific),)


def _requires(flag: str, reason: Callable[[], Reason]) -> Rule:
    """A rule that denies unless the purpose's boolean commitment ``flag`` is true."""

    def rule(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
        return _NONE if getattr(purpose, flag) else (reason(),)

    return rule


def _col(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    named = consent.parameters.collaborators
    missing = named - purpose.collaborators
    if purpose.collaborators and not missing:
        return _NONE
    return (reasons.collaboration(named, missing),)


def _gs(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    allowed = consent.parameters.regions
    # A subdivision (JP-13) is inside its country (JP); a country is never inside a subdivision.
    outside = {region for region in purpose.regions if region not in allowed and region.split("-", 1)[0] not in allowed}
    if allowed and purpose.regions and not outside:
        return _NONE
    return (reasons.regions(allowed, outside),)


def _ts(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    months = consent.parameters.months
    if months is None or months < 1:
        return (reasons.time_limit(consent.consented_at, None, None),)
    end = time_limit_end(consent.consented_at, months)
    return (reasons.time_limit(consent.consented_at, months, end),) if purpose.at > end else _NONE


def _listed(code: str, allowed_of: Callable[[ConsentTerms], frozenset[str]], field: str) -> Rule:
    """US, PS, IS: the purpose's user, project or institution must be one the terms list."""

    def rule(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
        value = getattr(purpose, field)
        return _NONE if value is not None and value in allowed_of(consent) else (reasons.not_listed(code),)

    return rule


def _rs(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    topics = purpose.topics
    return _NONE if topics and topics <= consent.parameters.topics else (reasons.not_listed("RS"),)


def _npoa(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    return (reasons.ancestry(),) if purpose.type is PurposeType.POA else _NONE


def _mor(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    return (reasons.moratorium_missing(),) if consent.parameters.moratorium_until is None else _NONE


def _permissive(consent: ConsentTerms, purpose: ResearchPurpose) -> tuple[Reason, ...]:
    """CC widens the permission (see _primary); it never denies by itself."""
    return _NONE


# Every modifier in the vocabulary needs an entry: one without a rule denies as unsupported.
_MODIFIER_RULES: dict[str, Rule] = {
    "CC": _permissive,
    "NPOA": _npoa,
    "NMDS": _nmds,
    "GSO": _requires("genetic", reasons.genetic_only),
    "RS": _rs,
    "NPUNCU": _npuncu,
    "NPU": _npu,
    "NCU": _ncu,
    "PUB": _requires("publication", reasons.publication),
    "COL": _col,
    "IRB": _requires("ethics_approval", reasons.ethics_approval),
    "GS": _gs,
    "MOR": _mor,
    "TS": _ts,
    "US": _listed("US", lambda consent: consent.parameters.users, "user"),
    "PS": _listed("PS", lambda consent: consent.parameters.projects, "project"),
    "IS": _listed("IS", lambda consent: consent.parameters.institutions, "institution"),
    "RTN": _requires("returns_data", reasons.return_of_data),
}
