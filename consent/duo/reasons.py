"""The reasons the DUO engine gives, in plain Japanese and English.

A citizen reads these on their own screen, so they say what the terms allow and why this use falls
outside, without DUO jargon. Each reason's code is the DUO shorthand of the term that caused the deny,
or a kebab-case code for checks that belong to no single term.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from consent.duo.results import Reason
from consent.duo.terms import PurposeType

NO_PERMISSION = "no-permission"
NOT_IN_FORCE = "consent-not-in-force"
UNSUPPORTED = "unsupported-term"

# What each purpose type is, to finish sentences like "this purpose is …".
_PURPOSE_JA = {
    PurposeType.GRU: "健康・医療以外も含む一般の研究",
    PurposeType.HMB: "健康・医療の研究",
    PurposeType.DS: "特定の病気の研究",
    PurposeType.POA: "祖先や集団の起源の研究",
    PurposeType.MDS: "解析手法やソフトウェアの開発",
    PurposeType.CC: "診療",
}
_PURPOSE_EN = {
    PurposeType.GRU: "general research that may go beyond health",
    PurposeType.HMB: "health or medical research",
    PurposeType.DS: "research on specific diseases",
    PurposeType.POA: "population origins or ancestry research",
    PurposeType.MDS: "methods development (software, algorithms)",
    PurposeType.CC: "clinical care",
}


def _ja_list(items: Iterable[str]) -> str:
    return "、".join(sorted(items))


def _en_list(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))


def no_permission() -> Reason:
    return Reason(
        NO_PERMISSION,
        "この同意には基本となる利用の範囲が決められていないため、どの利用も認められません。",
        "These terms set no primary data-use permission, so no use is allowed.",
    )


def not_in_force(consented_at: date) -> Reason:
    return Reason(
        NOT_IN_FORCE,
        f"この同意は{consented_at.isoformat()}に行われたもので、それより前の日付の利用には使えません。",
        f"These terms were given on {consented_at.isoformat()} and do not cover use before that date.",
    )


def unsupported(code: str) -> Reason:
    return Reason(
        UNSUPPORTED,
        f"{code}は、この仕組みではまだ判断できない条件です。判断できないため、利用を認めません。",
        f"{code} is a condition this engine cannot evaluate yet, so the use is not allowed.",
    )


def outside_scope(code: str, scope_ja: str, scope_en: str, purpose: PurposeType) -> Reason:
    """A permission whose scope does not include the purpose's type."""
    return Reason(
        code,
        f"この同意で認められているのは{scope_ja}です。この利用は{_PURPOSE_JA[purpose]}なので、範囲に入りません。",
        f"These terms allow {scope_en}; this use is {_PURPOSE_EN[purpose]}, which is outside that.",
    )


def diseases_outside(consented: Iterable[str], outside: Iterable[str]) -> Reason:
    return Reason(
        "DS",
        f"この同意は{_ja_list(consented)}の病気の研究に限られています。{_ja_list(outside)}はその範囲に入りません。",
        f"These terms allow research on {_en_list(consented)} only; {_en_list(outside)} is outside that.",
    )


def diseases_missing(code: str) -> Reason:
    return Reason(
        code,
        "病気を限った同意ですが、対象の病気が示されていないため、範囲に入るか判断できません。",
        "These terms are limited to specific diseases, but the diseases are not given, so nothing can be matched.",
    )


def for_profit(code: str) -> Reason:
    return Reason(
        code,
        "企業などの営利団体による利用は認められていません。",
        "Use by for-profit organisations is not allowed.",
    )


def commercial(code: str) -> Reason:
    return Reason(code, "商業目的の利用は認められていません。", "Commercial use is not allowed.")


def methods_development(disease_specific: bool) -> Reason:
    if disease_specific:
        return Reason(
            "NMDS",
            "解析手法やソフトウェアの開発への利用は、同意した病気の研究のためのものに限られています。",
            "Methods development is allowed only for research on the consented diseases.",
        )
    return Reason(
        "NMDS",
        "解析手法やソフトウェアの開発への利用は認められていません。",
        "Use for methods development (software, algorithms) is not allowed.",
    )


def genetic_only() -> Reason:
    return Reason(
        "GSO",
        "遺伝学的な研究にだけ使えます。この利用は遺伝学的な研究ではありません。",
        "Only genetic studies may use the data; this use is not a genetic study.",
    )


def ethics_approval() -> Reason:
    return Reason(
        "IRB",
        "倫理審査委員会の承認が条件ですが、この利用には承認が示されていません。",
        "Approval by an ethics committee is required, and this use shows none.",
    )


def publication() -> Reason:
    return Reason(
        "PUB",
        "研究結果を公表することが条件ですが、この利用は公表を約束していません。",
        "Results must be published, and this use does not commit to publishing them.",
    )


def collaboration(named: Iterable[str], missing: Iterable[str]) -> Reason:
    missing = sorted(missing)
    if missing:
        return Reason(
            "COL",
            f"元の研究者{_ja_list(named)}との共同研究が条件ですが、{_ja_list(missing)}が共同研究者に入っていません。",
            f"Collaboration with the original investigators ({_en_list(named)}) is required; "
            f"{_en_list(missing)} is not among the collaborators.",
        )
    return Reason(
        "COL",
        "元の研究者との共同研究が条件ですが、この利用には共同研究者が示されていません。",
        "Collaboration with the original investigators is required, and this use names no collaborator.",
    )


def return_of_data() -> Reason:
    return Reason(
        "RTN",
        "得られたデータを元のデータベースに返すことが条件ですが、この利用はそれを約束していません。",
        "Derived data must be returned to the source, and this use does not commit to it.",
    )


def regions(allowed: Iterable[str], outside: Iterable[str]) -> Reason:
    allowed, outside = sorted(allowed), sorted(outside)
    if not allowed:
        return Reason(
            "GS",
            "利用できる地域が限られていますが、その地域が決められていないため、利用を認めません。",
            "Use is limited to certain regions, but none are set, so no use is allowed.",
        )
    if not outside:
        return Reason(
            "GS",
            f"利用できる地域は{_ja_list(allowed)}に限られていますが、この利用は処理する地域を示していません。",
            f"Use is limited to {_en_list(allowed)}, and this use does not say where the data will be processed.",
        )
    return Reason(
        "GS",
        f"利用できる地域は{_ja_list(allowed)}に限られています。{_ja_list(outside)}での処理は認められていません。",
        f"Use is limited to {_en_list(allowed)}; processing in {_en_list(outside)} is not allowed.",
    )


def time_limit(consented_at: date, months: int | None, end: date | None) -> Reason:
    if months is None or end is None:
        return Reason(
            "TS",
            "利用できる期間が限られていますが、その長さが決められていないため、利用を認めません。",
            "Use is limited in time, but the length is not set, so no use is allowed.",
        )
    return Reason(
        "TS",
        f"利用できる期間は、同意した{consented_at.isoformat()}から{months}か月の{end.isoformat()}までで、すでに過ぎています。",
        f"Use was allowed for {months} months from consent on {consented_at.isoformat()}, "
        f"until {end.isoformat()}; that time has passed.",
    )


_LISTED_JA = {
    "US": "指定された利用者",
    "PS": "指定されたプロジェクト",
    "IS": "指定された機関",
    "RS": "指定された研究テーマ",
}
_LISTED_EN = {
    "US": "the named users",
    "PS": "the named projects",
    "IS": "the named institutions",
    "RS": "the named topics",
}


def not_listed(code: str) -> Reason:
    """US, PS, IS and RS: the requester (or topic) is not among those the terms name."""
    return Reason(
        code,
        f"利用できるのは{_LISTED_JA[code]}に限られています。この利用はそれに当たりません。",
        f"Only {_LISTED_EN[code]} may use the data; this use is not among them.",
    )


def ancestry() -> Reason:
    return Reason(
        "NPOA",
        "祖先や集団の起源の研究への利用は認められていません。",
        "Use for population origins or ancestry research is not allowed.",
    )


def moratorium_missing() -> Reason:
    return Reason(
        "MOR",
        "結果の公表を待つ期限があるはずですが、その日付が決められていないため、利用を認めません。",
        "A publication moratorium is set without its date, so no use is allowed.",
    )
