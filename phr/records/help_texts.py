"""Plain-language help for every data category, shown beside the timeline filters and dashboard sections.

Written in English here and translated to Japanese in locale/ja like every other string.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from phr.categories import DataCategory

CATEGORY_HELP: dict[str, Promise] = {
    DataCategory.DIAGNOSES: _("Illnesses and conditions a doctor has recorded for you, such as high blood pressure."),
    DataCategory.ALLERGIES: _("Things you react to, such as foods, pollen or animals. Tell every doctor about them."),
    DataCategory.DRUG_CONTRAINDICATIONS: _(
        "Medicines you must not take, because you reacted to them or they are unsafe for you."
    ),
    DataCategory.INFECTIONS: _("Infections found by a test or diagnosed by a doctor, such as influenza."),
    DataCategory.LAB_RESULTS: _(
        'Results of blood and urine tests. "High" or "Low" means outside the range the lab calls usual.'
    ),
    DataCategory.PRESCRIPTIONS: _("Medicines a doctor prescribed for you, with how to take them."),
    DataCategory.DOCUMENTS: _("Letters and reports: referral letters, discharge summaries and health-check reports."),
    DataCategory.VITAL_SIGNS: _("Measurements of your body, such as weight, blood pressure, pulse and temperature."),
    DataCategory.IMMUNIZATIONS: _("Vaccinations you have had."),
    DataCategory.PROCEDURES: _("Operations, treatments and examinations done to you."),
    DataCategory.ENCOUNTERS: _("Your visits to a hospital or clinic and your stays in hospital."),
    DataCategory.IMAGING: _("X-rays, CT, MRI and other scans, and their reports."),
    DataCategory.CARE_PLANS: _("Plans for your care agreed with your doctors or nurses."),
    DataCategory.LIFELOG: _("Data you entered yourself or from a wearable device, such as daily steps."),
    DataCategory.GENOMICS: _("Results of genetic tests. This is highly sensitive information."),
    DataCategory.SENSITIVE_DIAGNOSES: _(
        "Diagnoses given extra protection, such as mental health and sexually transmitted infections."
    ),
}


def help_for(category: str) -> str:
    text = CATEGORY_HELP.get(category)
    return str(text) if text is not None else ""


def categories_with_help() -> list[tuple[str, str, str]]:
    """(value, label, help) for every category, in the vocabulary's order."""
    return [(value, str(label), help_for(value)) for value, label in DataCategory.choices]
