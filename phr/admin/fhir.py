"""Admin pages, read-only like the whole site, for FHIR endpoints, connections and sync runs. Endpoints are
configured on the staff page (``/staff/endpoints/``).

No token, patient id or record content is shown: those columns stay encrypted and out of every form.
"""

from __future__ import annotations

from django.contrib import admin

from phr.models import Connection, FhirEndpoint, SyncRun


@admin.register(FhirEndpoint)
class FhirEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "base_url", "auth_mode", "supports_everything", "capabilities_fetched_at")
    list_filter = ("auth_mode",)
    fields = (
        "organisation",
        "name",
        "base_url",
        "auth_mode",
        "client_id",
        "key_id",
        "signing_alg",
        "scope_style",
        "supports_everything",
        "capabilities_fetched_at",
    )


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "kind", "status", "last_success_started_at", "created_at")
    list_filter = ("status", "kind", "endpoint")
    fields = ("endpoint", "kind", "status", "granted_scopes", "token_expires_at", "last_success_started_at")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "kind", "status", "created_count", "updated_count", "rejected_count", "requests_made")
    list_filter = ("status", "kind")
    fields = (
        "kind",
        "status",
        "started_at",
        "finished_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "skipped_count",
        "requests_made",
        "error",
    )
