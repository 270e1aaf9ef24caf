"""The Django admin as a read-only window: it shows, it never writes.

Every model here holds health data, identifiers, parties, users, roles, endpoints, credentials or logs, and
each change to them must go through a service that authorises its caller and writes an audit event (the staff
pages under ``/staff/`` do). The admin would be a second write path around them, so every ``ModelAdmin``
registered on the site, by this project or by a third-party app (auth, allauth, celery beat), is made
read-only as it is registered: no add, change or delete permission and no actions, whoever the user is
(a superuser included). Users who may open it see records, nothing more.

This module is imported while apps load (``INSTALLED_APPS`` names :class:`MamoriAdminConfig`), so it imports
no models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Mixed in before every registered admin class: viewing stays, every way to write is gone."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


class ReadOnlyAdminSite(admin.AdminSite):
    """An admin site whose every model admin is read-only (see the module docstring)."""

    site_header = "Mamori"

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        base = admin_class or admin.ModelAdmin
        read_only = type(f"ReadOnly{base.__name__}", (ReadOnlyModelAdmin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, read_only, **options)


class MamoriAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`ReadOnlyAdminSite` as ``admin.site``."""

    default_site = "phr.admin_site.ReadOnlyAdminSite"
