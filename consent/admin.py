"""Admin pages for consent, read-only like the whole site (phr/admin_site.py).

Regimes are versioned on the staff page, API clients registered, rotated and revoked on theirs, both through
the services that authorise the caller and audit the change; consent events change only through consent
services. Here an operator looks, and never sees a client's secret or token.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from consent.models import (
    ApiClient,
    ConsentEvent,
    ConsentState,
    Directive,
    Notice,
    Project,
    Receipt,
    Regime,
    SigningKey,
)


@admin.register(Regime)
class RegimeAdmin(admin.ModelAdmin):
    list_display = (
        "purpose_class",
        "tier",
        "version",
        "basis",
        "objection_window_days",
        "effective_from",
        "effective_to",
    )
    list_filter = ("purpose_class", "tier", "basis")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("title_ja", "organisation", "purpose_class", "status", "period_start", "period_end")
    list_filter = ("status", "purpose_class", "processing_mode")
    search_fields = ("title_ja", "title_en")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("person", "project", "regime", "channel", "status", "delivered_at")
    list_filter = ("channel", "status")
    raw_id_fields = ("person", "project", "regime")


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = ("at", "person", "sequence", "action", "channel", "actor_role")
    list_filter = ("channel", "actor_role", "action")


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "key_id", "created_at")


@admin.register(Directive)
class DirectiveAdmin(admin.ModelAdmin):
    list_display = ("person", "kind", "value", "category", "purpose_class", "made_at", "revoked_at")
    list_filter = ("kind", "value")


@admin.register(ConsentState)
class ConsentStateAdmin(admin.ModelAdmin):
    list_display = ("person", "version", "updated_at")


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("key_id", "created_at", "retired_at")


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Every organisation's API clients, for the operator to look at; changes are on /staff/api-clients/."""

    list_display = ("name", "client_id", "organisation", "key_source", "created_at", "rotated_at", "revoked_at")
    list_filter = ("organisation", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "client_id")
    fields = (
        *("name", "client_id", "organisation", "allowed_scopes", "jwks_url"),
        *("created_by", "created_at", "rotated_at", "revoked_at"),
    )

    @admin.display(description=_("keys"))
    def key_source(self, obj: ApiClient) -> str:
        sources = [str(_("JWKS URL"))] if obj.jwks_url else []
        sources += [str(_("inline JWKS"))] if obj.jwks else []
        sources += [str(_("secret"))] if obj.secret_hash else []
        return ", ".join(sources)
