"""The DUO wire form (DESIGN §5): JSON in, typed terms and purpose out, and the answer back as JSON.

The same parser serves the public API, fixtures and imports. It is strict: an unknown field, term,
ICD-10 code or date is a :class:`WireError` listing every problem with its JSON Pointer, never a
guess. Omitted lists and identifiers default to empty or null, which can only narrow what a purpose
may do; the purpose's yes/no commitments and both dates have no default and must be given.

Parameters are keyed by modifier (shorthand or CURIE). A parameter for a modifier the terms do not
carry is accepted only when empty (``"US": []``): a non-empty one most likely means a modifier was
forgotten, and silently dropping a restriction is the one mistake this parser must not make.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from consent.duo import fields as f
from consent.duo.fields import Problems, WireProblem, child
from consent.duo.results import Language, MatchResult
from consent.duo.terms import ConsentTerms, PurposeType, ResearchPurpose, TermParameters
from consent.duo.vocabulary import ParameterKind, Term, TermError, TermKind, vocabulary

CONSENT_REQUIRED = frozenset({"permission", "consented_at"})
CONSENT_OPTIONAL = frozenset({"diseases", "modifiers", "parameters"})
PURPOSE_REQUIRED = frozenset(
    {"type", "at", "commercial", "for_profit", "genetic", "ethics_approval", "publication", "returns_data"}
)
PURPOSE_OPTIONAL = frozenset({"diseases", "collaborators", "regions", "topics", "user", "project", "institution"})
_FLAGS = ("commercial", "for_profit", "genetic", "ethics_approval", "publication", "returns_data")
_DISEASE_PURPOSES = frozenset({PurposeType.DS, PurposeType.MDS})
T = TypeVar("T")

_PARAMETER_HINT_JA = {
    ParameterKind.REGIONS: "JP などの地域コードの配列",
    ParameterKind.MONTHS: "月数",
    ParameterKind.DATE: "YYYY-MM-DD の日付",
    ParameterKind.NAMES: "1つ以上の名前の配列",
    ParameterKind.DISEASES: "ICD-10 コードの配列",
}


class WireError(ValueError):
    """Input that does not follow the wire form; ``problems`` says what and where."""

    def __init__(self, problems: list[WireProblem]) -> None:
        super().__init__("; ".join(f"{p.pointer or '/'}: {p.message_en}" for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class MatchRequest:
    """A parsed ``{"consent": …, "purpose": …}`` document."""

    consent: ConsentTerms
    purpose: ResearchPurpose


def parse_match_request(payload: object) -> MatchRequest:
    """Parse a whole match request, or raise WireError with every problem found."""
    problems = Problems()
    document = f.read_object(payload, "", problems, required=("consent", "purpose"), optional=())
    consent = purpose = None
    if document is not None:
        if "consent" in document:
            consent = _consent(document["consent"], "/consent", problems)
        if "purpose" in document:
            purpose = _purpose(document["purpose"], "/purpose", problems)
    if problems.items or consent is None or purpose is None:
        raise WireError(problems.items)
    return MatchRequest(consent, purpose)


def result_to_wire(result: MatchResult, language: Language) -> dict[str, object]:
    """The answer as JSON: decision, reasons in ``language``, obligations."""
    return {
        "decision": result.decision.value,
        "reasons": [{"code": reason.code, "message": reason.message(language)} for reason in result.reasons],
        "obligations": [{"code": o.code, "until": o.until.isoformat()} for o in result.obligations],
    }


_KIND_JA = {
    TermKind.PERMISSION: ("許可区分", "許可区分は GRU・HMB・DS・POA・NRES のどれかです。"),
    TermKind.MODIFIER: ("修飾条件", "修飾条件は NCU や IRB などです。"),
}


def _term(text: object, pointer: str, problems: Problems, kind: TermKind) -> Term | None:
    name_ja, hint_ja = _KIND_JA[kind]
    if not isinstance(text, str):
        problems.add(pointer, f"DUOの{name_ja}を文字列で指定してください。", f"Must be a DUO {kind.value} as a string.")
        return None
    try:
        return vocabulary().permission(text) if kind is TermKind.PERMISSION else vocabulary().modifier(text)
    except TermError as error:
        if error.term is None:
            ja = (
                f"「{text}」はDUOの用語ではありません。HMB のような略称か DUO:0000006 のようなCURIEで指定してください。"
            )
        elif error.term.kind is TermKind.OBSOLETE:
            ja = f"「{text}」はDUOで廃止された用語です。GRU-CC は GRU と CC の2つに分かれました。"
        else:
            ja = f"「{text}」はDUOの{name_ja}ではありません。{hint_ja}"
        problems.add(pointer, ja, f"{error}.")
        return None


def _consent(value: object, pointer: str, problems: Problems) -> ConsentTerms | None:
    body = f.read_object(value, pointer, problems, required=CONSENT_REQUIRED, optional=CONSENT_OPTIONAL)
    if body is None:
        return None
    start = len(problems.items)
    permission = None
    if body.get("permission") is not None:
        permission = _term(body["permission"], child(pointer, "permission"), problems, TermKind.PERMISSION)
    consented_at = _optional(body, "consented_at", pointer, problems, f.read_date)
    diseases = f.read_diseases(body.get("diseases", []), child(pointer, "diseases"), problems)
    modifiers = _modifiers(body.get("modifiers", []), child(pointer, "modifiers"), problems)
    parameters = _parameters(body.get("parameters", {}), child(pointer, "parameters"), modifiers, problems)
    if permission is not None and permission.shorthand == "DS" and diseases == ():
        problems.add(
            child(pointer, "diseases"),
            "病気を限った研究 DS には、対象の病気を1つ以上指定してください。",
            "DS needs at least one disease.",
        )
    if permission is not None and permission.shorthand != "DS" and diseases:
        problems.add(
            child(pointer, "diseases"),
            f"病気を指定できるのは DS のときだけです。今は {permission.shorthand} です。",
            f"Diseases apply only to DS, not to {permission.shorthand}.",
        )
    if len(problems.items) > start or consented_at is None or parameters is None or diseases is None:
        return None
    return ConsentTerms(
        permission=permission,
        consented_at=consented_at,
        diseases=diseases,
        modifiers=tuple(modifiers),
        parameters=parameters,
    )


def _modifiers(value: object, pointer: str, problems: Problems) -> list[Term]:
    items = f.read_list(value, pointer, problems) or []
    modifiers: list[Term] = []
    for index, item in enumerate(items):
        term = _term(item, child(pointer, index), problems, TermKind.MODIFIER)
        if term is not None and term in modifiers:
            problems.add(child(pointer, index), f"{term} が重複しています。", f"{term} is listed twice.")
        elif term is not None:
            modifiers.append(term)
    return modifiers


def _parameters(value: object, pointer: str, modifiers: list[Term], problems: Problems) -> TermParameters | None:
    raw = _parameter_values(value, pointer, problems)
    if raw is None:
        return None

    def read(code: str, reader: Callable[[object, str, Problems], T]) -> T | None:
        given = raw.get(code)
        return None if given is None else reader(given, child(pointer, code), problems)

    regions = read("GS", f.read_regions)
    months = read("TS", f.read_months)
    until = read("MOR", f.read_date)
    users, projects, institutions = read("US", f.read_texts), read("PS", f.read_texts), read("IS", f.read_texts)
    topics, collaborators = read("RS", f.read_texts), read("COL", f.read_texts)
    values = {"GS": regions, "TS": months, "MOR": until, "US": users, "PS": projects, "IS": institutions}
    values |= {"RS": topics, "COL": collaborators}
    carried = {term.shorthand for term in modifiers}
    for code, parsed in values.items():
        if parsed and code not in carried:
            problems.add(
                child(pointer, code),
                f"{code} の値がありますが、modifiers に {code} がありません。",
                f"{code} has a parameter but is not among the modifiers.",
            )
    for term in modifiers:
        # Only a blank value is "missing"; an invalid one was reported by its reader already.
        if term.parameter is not None and term.parameter.required and raw.get(term.shorthand) in (None, [], ""):
            problems.add(
                child(pointer, term.shorthand),
                f"{term} には値が必要です。{_PARAMETER_HINT_JA[term.parameter.kind]}で指定してください。",
                f"{term} needs a parameter ({term.parameter.kind.value}).",
            )
    return TermParameters(
        regions=regions or frozenset(),
        months=months,
        moratorium_until=until,
        users=users or frozenset(),
        projects=projects or frozenset(),
        institutions=institutions or frozenset(),
        topics=topics or frozenset(),
        collaborators=collaborators or frozenset(),
    )


def _parameter_values(value: object, pointer: str, problems: Problems) -> dict[str, object] | None:
    """The raw parameter values keyed by modifier shorthand, whether the key was a shorthand or a CURIE."""
    if not isinstance(value, dict):
        problems.add(pointer, "JSONのオブジェクト {…} で指定してください。", "Must be a JSON object.")
        return None
    raw: dict[str, object] = {}
    for key, given in value.items():
        at = child(pointer, key)
        term = _term(key, at, problems, TermKind.MODIFIER)
        if term is None:
            continue
        if term.parameter is None:
            problems.add(at, f"{term} は値をとりません。", f"{term} takes no parameter.")
        elif term.shorthand in raw:
            problems.add(at, f"{term} の値が重複しています。", f"The parameter of {term} is given twice.")
        else:
            raw[term.shorthand] = given
    return raw


def _purpose(value: object, pointer: str, problems: Problems) -> ResearchPurpose | None:
    body = f.read_object(value, pointer, problems, required=PURPOSE_REQUIRED, optional=PURPOSE_OPTIONAL)
    if body is None:
        return None
    start = len(problems.items)
    kind = _optional(body, "type", pointer, problems, _purpose_type)
    at = _optional(body, "at", pointer, problems, f.read_date)
    flags = {name: _optional(body, name, pointer, problems, f.read_bool) for name in _FLAGS}
    diseases = f.read_diseases(body.get("diseases", []), child(pointer, "diseases"), problems)
    if kind is PurposeType.DS and diseases == ():
        problems.add(
            child(pointer, "diseases"),
            "DS の目的には対象の病気を1つ以上指定してください。",
            "A DS purpose needs at least one disease.",
        )
    if kind is not None and kind not in _DISEASE_PURPOSES and diseases:
        problems.add(
            child(pointer, "diseases"),
            f"病気を指定できるのは DS と MDS の目的だけです。今は {kind} です。"
            "病気の研究なら type を DS にしてください。",
            f"Diseases apply only to DS and MDS purposes (use type DS for disease research), not to {kind}.",
        )
    collaborators = f.read_texts(body.get("collaborators", []), child(pointer, "collaborators"), problems)
    topics = f.read_texts(body.get("topics", []), child(pointer, "topics"), problems)
    regions = f.read_regions(body.get("regions", []), child(pointer, "regions"), problems)
    user = f.read_optional_text(body.get("user"), child(pointer, "user"), problems)
    project = f.read_optional_text(body.get("project"), child(pointer, "project"), problems)
    institution = f.read_optional_text(body.get("institution"), child(pointer, "institution"), problems)
    if len(problems.items) > start or kind is None or at is None or diseases is None or None in flags.values():
        return None
    return ResearchPurpose(
        type=kind,
        at=at,
        commercial=flags["commercial"] is True,
        for_profit=flags["for_profit"] is True,
        genetic=flags["genetic"] is True,
        ethics_approval=flags["ethics_approval"] is True,
        publication=flags["publication"] is True,
        returns_data=flags["returns_data"] is True,
        diseases=diseases,
        collaborators=collaborators or frozenset(),
        topics=topics or frozenset(),
        regions=regions or frozenset(),
        user=user,
        project=project,
        institution=institution,
    )


def _optional(
    body: Mapping[str, object], name: str, pointer: str, problems: Problems, read: Callable[[object, str, Problems], T]
) -> T | None:
    """Read ``body[name]`` if present; a missing required field is already reported by read_object."""
    return read(body[name], child(pointer, name), problems) if name in body else None


def _purpose_type(value: object, pointer: str, problems: Problems) -> PurposeType | None:
    if isinstance(value, str) and value.strip().upper() in PurposeType.__members__:
        return PurposeType[value.strip().upper()]
    choices = ", ".join(PurposeType)
    problems.add(pointer, f"目的の種類は {choices} のどれかで指定してください。", f"Must be one of {choices}.")
    return None
