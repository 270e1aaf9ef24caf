"""URLs of the consent app's API, mounted at /api/v1/."""

from django.urls import path, re_path

from consent.api.bulk import BulkCheckCreateView, BulkCheckDetailView, BulkCheckPermittedView, BulkCheckResultsView
from consent.api.changes import ConsentChangesView
from consent.api.decisions import BatchDecisionView, DecisionView
from consent.api.oauth import TokenView
from consent.api.problems import unknown_path
from consent.api.projects import ProjectRegisterView
from consent.api.receipts import ReceiptKeysView, ReceiptVerifyView
from consent.api.releases import ReleaseCreateView, ReleaseDetailView
from consent.api.views import DuoMatchView

app_name = "consent_api"

urlpatterns = [
    path("oauth/token", TokenView.as_view(), name="oauth-token"),
    path("decisions", DecisionView.as_view(), name="decisions"),
    path("decisions:batch", BatchDecisionView.as_view(), name="decisions-batch"),
    path("projects", ProjectRegisterView.as_view(), name="projects"),
    path("consent-changes", ConsentChangesView.as_view(), name="consent-changes"),
    path("bulk-checks", BulkCheckCreateView.as_view(), name="bulk-checks"),
    path("bulk-checks/<str:job_id>", BulkCheckDetailView.as_view(), name="bulk-check"),
    path("bulk-checks/<str:job_id>/permitted", BulkCheckPermittedView.as_view(), name="bulk-check-permitted"),
    path("bulk-checks/<str:job_id>/results.ndjson", BulkCheckResultsView.as_view(), name="bulk-check-results"),
    path("releases", ReleaseCreateView.as_view(), name="releases"),
    path("releases/<str:release_id>", ReleaseDetailView.as_view(), name="release"),
    path("duo/match", DuoMatchView.as_view(), name="duo-match"),
    path("receipts/verify", ReceiptVerifyView.as_view(), name="receipts-verify"),
    path("receipts/keys", ReceiptKeysView.as_view(), name="receipts-keys"),
    # Last: any other path under /api/v1/ is a problem+json 404, not the site's HTML page.
    re_path(r"^.*$", unknown_path, name="unknown-path"),
]
