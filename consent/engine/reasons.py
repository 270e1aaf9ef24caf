"""The reasons the decision engine gives (DESIGN §4), in plain Japanese and English.

DUO reasons come from :mod:`consent.duo.reasons` with the DUO term as their code; these cover the
other rules. Codes are kebab-case and stable: hospitals and the citizen's page key on them.
"""

from __future__ import annotations

from datetime import date

from consent.duo.results import Reason

_PURPOSE_JA = {
    "primary_care": "診療",
    "academic_research": "学術研究",
    "commercial_rnd": "企業の研究開発",
    "public_health": "公衆衛生",
}
_PURPOSE_EN = {
    "primary_care": "primary care",
    "academic_research": "academic research",
    "commercial_rnd": "commercial research and development",
    "public_health": "public health",
}


def _purpose_ja(purpose_class: str) -> str:
    return _PURPOSE_JA.get(purpose_class, purpose_class)


def _purpose_en(purpose_class: str) -> str:
    return _PURPOSE_EN.get(purpose_class, purpose_class)


def unknown_person() -> Reason:
    return Reason(
        "unknown-person",
        "この人はMamoriに登録されていないため、利用を認めません。",
        "This person is not known to Mamori, so no use is allowed.",
    )


def unknown_category(category: str) -> Reason:
    return Reason(
        "unknown-category",
        f"「{category}」は決められたデータの種類ではないため、利用を認めません。",
        f"{category!r} is not a known data category, so no use is allowed.",
    )


def no_categories() -> Reason:
    return Reason(
        "no-categories",
        "どのデータの種類を使うのかが示されていないため、利用を認めません。",
        "The request names no data category, so no use is allowed.",
    )


def unknown_purpose_class(purpose_class: str) -> Reason:
    return Reason(
        "unknown-purpose-class",
        f"「{purpose_class}」は決められた利用目的の区分ではないため、利用を認めません。",
        f"{purpose_class!r} is not a known purpose class, so no use is allowed.",
    )


def no_regime(purpose_class: str, tier: int) -> Reason:
    return Reason(
        "no-regime",
        f"{_purpose_ja(purpose_class)}でのレベル{tier}のデータの利用について、この時点で有効なルールがないため、利用を認めません。",
        f"No regime is in force for {_purpose_en(purpose_class)} of tier {tier} data at this time, "
        "so no use is allowed.",
    )


def project_not_approved() -> Reason:
    return Reason(
        "project-not-approved",
        "このプロジェクトは審査で承認されていないため、データを使えません。",
        "This project has not been approved, so it may not use the data.",
    )


def outside_project_period(start: date, end: date) -> Reason:
    return Reason(
        "outside-project-period",
        f"このプロジェクトの期間は{start.isoformat()}から{end.isoformat()}までで、その期間外の利用は認められません。",
        f"This project runs from {start.isoformat()} to {end.isoformat()}; use outside that period is not allowed.",
    )


def state_unreadable() -> Reason:
    return Reason(
        "state-unreadable",
        "本人の選択の記録を読み取れないため、安全のため利用を認めません。",
        "The person's recorded choices cannot be read, so to be safe no use is allowed.",
    )


def prohibited(purpose_class: str, tier: int) -> Reason:
    return Reason(
        "prohibited",
        f"{_purpose_ja(purpose_class)}でのレベル{tier}のデータの利用は、ルールで禁止されています。",
        f"The regime prohibits {_purpose_en(purpose_class)} use of tier {tier} data.",
    )


def project_declined() -> Reason:
    return Reason(
        "project-declined",
        "本人（または代理人）がこのプロジェクトへの参加を断っています。",
        "The person (or their proxy) declined this project.",
    )


def organisation_blocked() -> Reason:
    return Reason(
        "organisation-blocked",
        "本人（または代理人）が、この機関にデータを渡さないよう指定しています。",
        "The person (or their proxy) blocked this organisation.",
    )


def category_denied(category: str, purpose_class: str) -> Reason:
    return Reason(
        "category-denied",
        f"本人（または代理人）が、{_purpose_ja(purpose_class)}に「{category}」のデータを使わないよう指定しています。",
        f"The person (or their proxy) refused the use of {category} data for {_purpose_en(purpose_class)}.",
    )


def global_opt_out() -> Reason:
    return Reason(
        "global-opt-out",
        "本人（または代理人）が、診療以外へのデータの利用をすべて停止しています。",
        "The person (or their proxy) opted out of every use other than their own care.",
    )


def purpose_not_coded() -> Reason:
    return Reason(
        "purpose-not-coded",
        "本人はデータの利用条件を決めていますが、この利用の目的が示されていないため、条件に合うか判断できません。",
        "The person set data-use terms, and this use declares no research purpose to match them against.",
    )


def opt_in_required(purpose_class: str, tier: int) -> Reason:
    return Reason(
        "opt-in-required",
        f"{_purpose_ja(purpose_class)}でのレベル{tier}のデータの利用には本人の同意が必要ですが、同意がありません。",
        f"{_purpose_en(purpose_class).capitalize()} use of tier {tier} data needs the person's explicit consent, "
        "and there is none.",
    )


def not_notified() -> Reason:
    return Reason(
        "not-notified",
        "この利用について本人への通知がまだ届いていないため、利用を認めません。",
        "The person has not been notified of this use yet, so it is not allowed.",
    )


def notice_omits_commercial_use() -> Reason:
    return Reason(
        "not-notified",
        "本人に届いた通知に商業目的での利用であることが書かれていなかったため、通知があったとは認められません。",
        "The notice the person received did not state that the use is commercial, so it does not count.",
    )


def notice_window_open(until: date) -> Reason:
    return Reason(
        "notice-window-open",
        f"本人が利用を断ることのできる期間中です。{until.isoformat()}までは利用できません。",
        f"The person may still object: the objection window is open until {until.isoformat()}.",
    )
