"""URLs of the consent app's API, mounted at /api/v1/."""

from django.urls import path

from consent.api.views import DuoMatchView

app_name = "consent_api"

urlpatterns = [
    path("duo/match", DuoMatchView.as_view(), name="duo-match"),
]
