"""SMART scopes Mamori asks for: v2 ``.rs`` (read and search), or v1 ``.read`` where a server speaks only v1."""

from __future__ import annotations

from phr.models.fhir import ScopeStyle

# The resource types a person's record is pulled as; the endpoint's CapabilityStatement narrows this list.
PATIENT_RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "AllergyIntolerance",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "Immunization",
    "Procedure",
    "Encounter",
    "CarePlan",
    "ImagingStudy",
    "DocumentReference",
    "Composition",
)
# Resources referenced from a record that live outside the patient compartment.
REFERENCED_RESOURCE_TYPES: tuple[str, ...] = ("Practitioner", "Organization", "Medication", "Binary")

LAUNCH_SCOPES = ("launch/patient", "openid", "fhirUser", "offline_access")


def _permission(style: str) -> str:
    return "read" if style == ScopeStyle.V1 else "rs"


def resource_scopes(context: str, style: str, types: tuple[str, ...] | list[str]) -> list[str]:
    permission = _permission(style)
    return [f"{context}/{resource_type}.{permission}" for resource_type in types]


def patient_launch_scope(style: str, types: tuple[str, ...] | list[str] = PATIENT_RESOURCE_TYPES) -> str:
    """The scope string of a SMART standalone patient launch."""
    wanted = [*types, *REFERENCED_RESOURCE_TYPES]
    return " ".join([*LAUNCH_SCOPES, *resource_scopes("patient", style, wanted)])


def system_scope(style: str, types: tuple[str, ...] | list[str] = PATIENT_RESOURCE_TYPES) -> str:
    """The scope string of a SMART Backend Services token for pulling records."""
    return " ".join(resource_scopes("system", style, [*types, *REFERENCED_RESOURCE_TYPES]))
