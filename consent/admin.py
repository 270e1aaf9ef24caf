"""Django admin for consent. Events, receipts, directives and states are read-only: they change only
through consent services. Regime versions are added through the same service as the staff page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent import services
from consent.api_clients import revoke_client
from consent.errors import ConsentError
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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    fields = (
        "purpose_class",
        "tier",
        "basis",
        "objection_window_days",
        "notice_by_publication",
        "notice_must_state_commercial_use",
        "notice_requirements",
        "effective_from",
        "effective_to",
        "version",
        "created_by",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None:
            return self.fields  # a version is never edited: add a new one
        return ("effective_to", "version", "created_by")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class NewVersionForm(form):  # type: ignore[misc,valid-type]
            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                try:
                    services.validate_regime_version(
                        actor=request.user,  # type: ignore[arg-type]
                        purpose_class=data.get("purpose_class", ""),
                        tier=data.get("tier", 0),
                        basis=data.get("basis", ""),
                        effective_from=data.get("effective_from") or timezone.now(),
                        objection_window_days=data.get("objection_window_days") or 0,
                    )
                except ConsentError as error:
                    raise ValidationError(str(error)) from error
                return data

        return NewVersionForm

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        created = services.create_regime_version(
            actor=request.user,  # type: ignore[arg-type]
            purpose_class=data["purpose_class"],
            tier=data["tier"],
            basis=data["basis"],
            effective_from=data["effective_from"],
            objection_window_days=data["objection_window_days"] if data["basis"] == "opt_out" else 0,
            notice_requirements=data["notice_requirements"],
            notice_by_publication=data["notice_by_publication"],
            notice_must_state_commercial_use=data["notice_must_state_commercial_use"],
        )
        obj.pk = created.pk


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
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "person", "sequence", "action", "channel", "actor_role")
    list_filter = ("channel", "actor_role", "action")


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("id", "event", "key_id", "created_at")


@admin.register(Directive)
class DirectiveAdmin(ReadOnlyAdmin):
    list_display = ("person", "kind", "value", "category", "purpose_class", "made_at", "revoked_at")
    list_filter = ("kind", "value")


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ("person", "version", "updated_at")


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ("key_id", "created_at", "retired_at")


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    """Every organisation's API clients, for the operator. Organisation administrators register, rotate and
    revoke their own in the staff area; here an operator can only look and, in an incident, revoke."""

    list_display = ("name", "client_id", "organisation", "key_source", "created_at", "rotated_at", "revoked_at")
    list_filter = ("organisation", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "client_id")
    fields = (
        *("name", "client_id", "organisation", "allowed_scopes", "jwks_url"),
        *("created_by", "created_at", "rotated_at", "revoked_at"),
    )
    actions = ("revoke",)

    @admin.display(description=_("keys"))
    def key_source(self, obj: ApiClient) -> str:
        sources = [str(_("JWKS URL"))] if obj.jwks_url else []
        sources += [str(_("inline JWKS"))] if obj.jwks else []
        sources += [str(_("secret"))] if obj.secret_hash else []
        return ", ".join(sources)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("consent.change_apiclient"))  # for the revoke action only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(self.fields or ())

    @admin.action(description=_("Revoke the selected clients (their tokens stop working at once)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        count = 0
        for client in queryset.filter(revoked_at__isnull=True):
            revoke_client(client=client, actor=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, _("%(count)d client(s) revoked.") % {"count": count})
