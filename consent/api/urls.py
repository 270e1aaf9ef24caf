"""URLs of the consent app's API, mounted at /api/v1/."""

from django.urls import path

from consent.api.receipts import ReceiptKeysView, ReceiptVerifyView
from consent.api.views import DuoMatchView

app_name = "consent_api"

urlpatterns = [
    path("duo/match", DuoMatchView.as_view(), name="duo-match"),
    path("receipts/verify", ReceiptVerifyView.as_view(), name="receipts-verify"),
    path("receipts/keys", ReceiptKeysView.as_view(), name="receipts-keys"),
]
