"""FHIR R4 URLs, mounted at /fhir/r4/."""

from django.urls import path

from consent.api.fhir_views import FhirConsentSearchView, FhirMetadataView

app_name = "fhir_r4"

urlpatterns = [
    path("metadata", FhirMetadataView.as_view(), name="metadata"),
    path("Consent", FhirConsentSearchView.as_view(), name="consent-search"),
]
