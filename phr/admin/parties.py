"""Admin pages for parties: users, persons, identifiers, organisations, memberships, proxies, audit events.

Read-only like the whole site (phr/admin_site.py). Roles are given with ``manage.py grant_role``, proxies on the
staff page; neither here. The user page shows no password hash, and no user's second factor shows its secret.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from phr.models import AuditEvent, Identifier, Membership, Organisation, Person, Proxy, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "is_staff", "is_superuser", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = fieldsets
    filter_horizontal = ()


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("family_name", "given_name", "birth_date", "prefecture", "preferred_language")
    search_fields = ("family_name", "given_name", "family_name_kana", "given_name_kana")


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin):
    """Values stay encrypted here: the admin shows the system only."""

    list_display = ("system", "person", "created_at")
    fields = ("person", "system", "created_at")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "patient_number_system", "is_operator")
    list_filter = ("kind",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)


@admin.register(Proxy)
class ProxyAdmin(admin.ModelAdmin):
    list_display = ("proxy_user", "person", "scope", "legal_basis", "valid_from", "valid_until", "revoked_at")
    list_filter = ("scope", "legal_basis")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "actor", "person")
    list_filter = ("action",)


# allauth's own page would show each authenticator's data: a TOTP secret, recovery-code seeds.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    fields = ("user", "type", "created_at", "last_used_at")
