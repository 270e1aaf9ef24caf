from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from phr.models import AuditEvent, Identifier, Membership, Organisation, Person, Proxy, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "is_staff", "is_active", "last_login")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("family_name", "given_name", "birth_date", "prefecture", "preferred_language")
    search_fields = ("family_name", "given_name", "family_name_kana", "given_name_kana")
    readonly_fields = ("id", "created_at")


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin):
    """Values stay encrypted here: the admin shows the system only."""

    list_display = ("system", "person", "created_at")
    fields = ("person", "system", "created_at")
    readonly_fields = ("person", "system", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "patient_number_system", "is_operator")
    list_filter = ("kind",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role",)


@admin.register(Proxy)
class ProxyAdmin(admin.ModelAdmin):
    list_display = ("proxy_user", "person", "scope", "legal_basis", "valid_from", "valid_until", "revoked_at")
    list_filter = ("scope", "legal_basis")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "actor", "person")
    list_filter = ("action",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
