"""FHIR R4 URLs, mounted at /fhir/r4/."""

from django.urls import path, re_path

from consent.api.fhir_views import FhirConsentSearchView, FhirMetadataView
from consent.api.problems import unknown_path

app_name = "fhir_r4"

urlpatterns = [
    path("metadata", FhirMetadataView.as_view(), name="metadata"),
    path("Consent", FhirConsentSearchView.as_view(), name="consent-search"),
    # Last: any other path under /fhir/r4/ is a problem+json 404, as every error of this API is.
    re_path(r"^.*$", unknown_path, name="unknown-path"),
]
