"""Seed version 1 of every regime with the defaults of DESIGN.md §3 (reversible).

- primary care, tiers 1–2: opt-out with no window; the notices posted by care organisations are the
  notice (publication), and a person may block any one organisation; tier 3: opt-in.
- academic research, tiers 1–2: opt-out after a delivered notice and a 30-day objection window; tier 3: opt-in.
- commercial R&D, tiers 1–2: as academic research, and the notice must state the commercial use; tier 3: opt-in.
- public health, every tier: statutory (use under law is logged and shown, personal choices do not stop it).
"""

from datetime import datetime, timezone

from django.db import migrations

EFFECTIVE_FROM = datetime(2025, 12, 31, 15, 0, tzinfo=timezone.utc)  # 2026-01-01 00:00 JST

_RESEARCH_NOTICE = (
    "Notify each person (or publish a public notice where they have no contact channel) with the project's "
    "plain-language summary, the data categories, who receives the data and how to object; wait {days} days."
)
_COMMERCIAL_NOTICE = _RESEARCH_NOTICE + " The notice must state that the use is commercial and by whom."
_CARE_NOTICE = "Care organisations post how records are shared for care; the person may block any organisation."
_OPT_IN_NOTICE = "Explicit consent only: the person must accept the project or allow the category."
_STATUTORY_NOTICE = "Use under law; every use is logged and shown to the person."

DEFAULTS = [
    ("primary_care", 1, "opt_out", 0, True, False, _CARE_NOTICE),
    ("primary_care", 2, "opt_out", 0, True, False, _CARE_NOTICE),
    ("primary_care", 3, "opt_in", 0, False, False, _OPT_IN_NOTICE),
    ("academic_research", 1, "opt_out", 30, False, False, _RESEARCH_NOTICE.format(days=30)),
    ("academic_research", 2, "opt_out", 30, False, False, _RESEARCH_NOTICE.format(days=30)),
    ("academic_research", 3, "opt_in", 0, False, False, _OPT_IN_NOTICE),
    ("commercial_rnd", 1, "opt_out", 30, False, True, _COMMERCIAL_NOTICE.format(days=30)),
    ("commercial_rnd", 2, "opt_out", 30, False, True, _COMMERCIAL_NOTICE.format(days=30)),
    ("commercial_rnd", 3, "opt_in", 0, False, False, _OPT_IN_NOTICE),
    ("public_health", 1, "statutory", 0, False, False, _STATUTORY_NOTICE),
    ("public_health", 2, "statutory", 0, False, False, _STATUTORY_NOTICE),
    ("public_health", 3, "statutory", 0, False, False, _STATUTORY_NOTICE),
]


def seed(apps, schema_editor):
    Regime = apps.get_model("consent", "Regime")
    for purpose_class, tier, basis, window, by_publication, commercial_notice, requirements in DEFAULTS:
        Regime.objects.get_or_create(
            purpose_class=purpose_class,
            tier=tier,
            version=1,
            defaults={
                "basis": basis,
                "objection_window_days": window,
                "notice_by_publication": by_publication,
                "notice_must_state_commercial_use": commercial_notice,
                "notice_requirements": requirements,
                "effective_from": EFFECTIVE_FROM,
            },
        )


def unseed(apps, schema_editor):
    Regime = apps.get_model("consent", "Regime")
    Regime.objects.filter(version=1, created_by__isnull=True, effective_from=EFFECTIVE_FROM).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_schema")]

    operations = [migrations.RunPython(seed, unseed)]
