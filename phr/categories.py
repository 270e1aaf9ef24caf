"""The fixed vocabulary of data categories (DESIGN.md §3), each with its sensitivity tier.

Tier 1 is the "3 documents and 6 items" (3文書6情報) of the EHR information-sharing service; tier 3 is
high-sensitivity data (genomics and sensitive diagnoses) that no opt-out regime may cover.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataCategory(models.TextChoices):
    DIAGNOSES = "diagnoses", _("Diagnoses")
    ALLERGIES = "allergies", _("Allergies")
    DRUG_CONTRAINDICATIONS = "drug_contraindications", _("Drug contraindications")
    INFECTIONS = "infections", _("Infections")
    LAB_RESULTS = "lab_results", _("Lab results")
    PRESCRIPTIONS = "prescriptions", _("Prescriptions")
    DOCUMENTS = "documents", _("Documents")
    VITAL_SIGNS = "vital_signs", _("Vital signs")
    IMMUNIZATIONS = "immunizations", _("Immunizations")
    PROCEDURES = "procedures", _("Procedures")
    ENCOUNTERS = "encounters", _("Encounters")
    IMAGING = "imaging", _("Imaging")
    CARE_PLANS = "care_plans", _("Care plans")
    LIFELOG = "lifelog", _("Lifelog")
    GENOMICS = "genomics", _("Genomics")
    SENSITIVE_DIAGNOSES = "sensitive_diagnoses", _("Sensitive diagnoses")


class Tier(models.IntegerChoices):
    CORE = 1, _("Tier 1: the 3 documents and 6 items")
    EXTENDED = 2, _("Tier 2: other clinical and personal data")
    SENSITIVE = 3, _("Tier 3: high sensitivity")


@dataclass(frozen=True)
class CategoryInfo:
    category: DataCategory
    tier: Tier


TIERS: dict[str, Tier] = {
    DataCategory.DIAGNOSES: Tier.CORE,
    DataCategory.ALLERGIES: Tier.CORE,
    DataCategory.DRUG_CONTRAINDICATIONS: Tier.CORE,
    DataCategory.INFECTIONS: Tier.CORE,
    DataCategory.LAB_RESULTS: Tier.CORE,
    DataCategory.PRESCRIPTIONS: Tier.CORE,
    DataCategory.DOCUMENTS: Tier.CORE,
    DataCategory.VITAL_SIGNS: Tier.EXTENDED,
    DataCategory.IMMUNIZATIONS: Tier.EXTENDED,
    DataCategory.PROCEDURES: Tier.EXTENDED,
    DataCategory.ENCOUNTERS: Tier.EXTENDED,
    DataCategory.IMAGING: Tier.EXTENDED,
    DataCategory.CARE_PLANS: Tier.EXTENDED,
    DataCategory.LIFELOG: Tier.EXTENDED,
    DataCategory.GENOMICS: Tier.SENSITIVE,
    DataCategory.SENSITIVE_DIAGNOSES: Tier.SENSITIVE,
}

# ICD-10 ranges whose diagnoses are tier 3: mental and behavioural (F00–F99), HIV (B20–B24), sexually
# transmitted infections (A50–A64), pregnancy with abortive outcome (O00–O08).
SENSITIVE_ICD10_BLOCKS: tuple[tuple[str, str], ...] = (("F00", "F99"), ("B20", "B24"), ("A50", "A64"), ("O00", "O08"))
# ICD-10 certain infectious and parasitic diseases: A00–B99 (those not sensitive above).
INFECTION_ICD10_BLOCK: tuple[str, str] = ("A00", "B99")


def tier_of(category: str) -> Tier:
    """The tier of a category; an unknown category raises KeyError (callers fail closed)."""
    return TIERS[category]


def _icd10_stem(code: str) -> str:
    return code.strip().upper().replace(".", "")[:3]


def _within(stem: str, block: tuple[str, str]) -> bool:
    return block[0] <= stem <= block[1]


def is_sensitive_icd10(code: str) -> bool:
    stem = _icd10_stem(code)
    return len(stem) == 3 and any(_within(stem, block) for block in SENSITIVE_ICD10_BLOCKS)


def is_infection_icd10(code: str) -> bool:
    stem = _icd10_stem(code)
    return len(stem) == 3 and _within(stem, INFECTION_ICD10_BLOCK)
