from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from phr.prefectures import PREFECTURE_CHOICES


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("an email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A login: a citizen, a proxy, or organisation staff. Signs in with an email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.email


class Language(models.TextChoices):
    JA = "ja", _("Japanese")
    EN = "en", _("English")


class Sex(models.TextChoices):
    """FHIR administrative gender."""

    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Person(models.Model):
    """A citizen (本人: the data subject) whose records and choices Mamori holds."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField("phr.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="person")
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.JA
    )
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    prefecture = models.CharField(_("prefecture"), max_length=2, choices=PREFECTURE_CHOICES, blank=True)
    deceased_date = models.DateField(_("deceased date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name_kana", "given_name_kana", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deceased_date__isnull=True) | Q(deceased_date__gte=F("birth_date")),
                name="person_deceased_after_birth",
                violation_error_message=_("The deceased date cannot be before the birth date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class Identifier(models.Model):
    """A person's identifier in one system: the value encrypted, found through an HMAC blind index."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(_("system"), max_length=255)
    value_encrypted = models.BinaryField()
    blind_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "blind_index"],
                name="identifier_unique_per_system",
                violation_error_message=_("This identifier is already linked to a person."),
            ),
            models.UniqueConstraint(
                fields=["person", "system"],
                name="identifier_one_per_person_and_system",
                violation_error_message=_("This person already has an identifier in this system."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system}|[encrypted]"

    def __repr__(self) -> str:
        return f"<Identifier {self.id} {self.system}>"


class OrganisationKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    ACADEMIC = "academic", _("Academic")
    COMMERCIAL = "commercial", _("Commercial")
    PUBLIC = "public", _("Public body")


class Organisation(models.Model):
    """A hospital, university, company or public body that holds, uses or oversees data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    patient_number_system = models.CharField(
        _("patient-number system URI"), max_length=255, null=True, blank=True, unique=True
    )
    is_operator = models.BooleanField(_("runs Mamori"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_operator"], condition=Q(is_operator=True), name="organisation_single_operator"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """A staff role; what each one may do, and where, is decided in phr/roles.py alone."""

    RESEARCHER = "researcher", _("Researcher")
    REVIEWER = "reviewer", _("Reviewer")
    CAMPAIGN_MANAGER = "campaign_manager", _("Campaign manager")
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    OPERATOR_ADMIN = "operator_admin", _("Operator administrator")
    BREAK_GLASS = "break_glass", _("Emergency access")


class Membership(models.Model):
    """A user's role in an organisation. Every role is a staff role and needs MFA."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.organisation}"


class ProxyScope(models.TextChoices):
    VIEW = "view", _("View records")
    MANAGE_CONSENT = "manage_consent", _("View records and manage consent")


class LegalBasis(models.TextChoices):
    PARENTAL = "parental_authority", _("Parental authority (親権)")
    GUARDIAN = "adult_guardianship", _("Adult guardianship (成年後見)")
    ATTORNEY = "power_of_attorney", _("Power of attorney (任意代理)")


class ProxyQuerySet(models.QuerySet["Proxy"]):
    def active(self, at: Any = None) -> ProxyQuerySet:
        now = at or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=now).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now)
        )


class Proxy(models.Model):
    """A user allowed to act for a person (代理人), within a scope and a period, until revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="proxies")
    proxy_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="proxy_grants")
    scope = models.CharField(_("scope"), max_length=16, choices=ProxyScope.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=32, choices=LegalBasis.choices)
    evidence = models.TextField(_("evidence"), help_text=_("What was checked, e.g. family register extract."))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProxyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "proxies"
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="proxy_valid_until_after_from",
                violation_error_message=_("A proxy must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.proxy_user} for {self.person}"

    def is_active(self, at: Any = None) -> bool:
        now = at or timezone.now()
        if self.revoked_at is not None or self.valid_from > now:
            return False
        return self.valid_until is None or self.valid_until > now

    def allows(self, scope: str) -> bool:
        return scope == ProxyScope.VIEW or self.scope == ProxyScope.MANAGE_CONSENT
