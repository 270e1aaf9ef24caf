"""Django admin for phr: parties in parties.py, FHIR endpoints and sync runs in fhir.py."""

from phr.admin import fhir, parties

__all__ = ["fhir", "parties"]
