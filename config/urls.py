from allauth.account.decorators import secure_admin_login
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config import health
from consent.api.oauth import SmartConfigurationView

admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Mamori"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc come from static files (drf-spectacular-sidecar). Swagger UI's start-up script is a
    # separate same-origin request (?script), as the CSP allows no inline script. ReDoc writes its styles inline
    # and searches in a worker it builds from a blob, which its page alone allows; scripts stay same-origin.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path(".well-known/smart-configuration", SmartConfigurationView.as_view(), name="smart-configuration"),
    path("api/v1/", include("consent.api.urls")),
    path("fhir/r4/", include("consent.api.fhir_urls")),
    path("logs/", include("phr.tlog.urls")),
    path("", include("portal.urls")),
]
