"""Who asked about whom, for the person's transparency page: one row per person per single, batch or release
check (DecisionAudit); a bulk check's shared facts once (BulkDecisionRun) and a narrow row per line (BulkDecision)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class DecisionChannel(models.TextChoices):
    SINGLE = "single", _("Single check")
    BATCH = "batch", _("Batch check")
    BULK = "bulk", _("Bulk check")
    RELEASE = "release", _("Release")
    FHIR_CONSENT = "fhir", _("FHIR Consent read")


class DecisionAudit(models.Model):
    """A decision an organisation asked for about a known person and the answer, or its read of their FHIR Consent."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("evaluated at"))
    # No database constraints on these keys: bulk checks insert 250,000 rows a chunk and per-row foreign-key
    # triggers would dominate; the rows are only ever written from loaded objects. No single-column indexes
    # either (each one costs every bulk insert more than the rows themselves): the person is the first column
    # of the (person, -at) index, and nothing reads by organisation or project except the PROTECT check when
    # one is deleted, which is rare and may scan.
    organisation = models.ForeignKey(
        "phr.Organisation", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # The API client is kept as its id: clients may be retired while the audit must stay.
    client_id = models.CharField(_("API client"), max_length=64, blank=True)
    person = models.ForeignKey(
        "phr.Person", on_delete=models.CASCADE, related_name="decision_audits", db_constraint=False, db_index=False
    )
    # None for a FHIR Consent read, which is about no project (its decision and reasons are empty).
    project = models.ForeignKey(
        "consent.Project", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False, null=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=DecisionChannel.choices)
    decision = models.CharField(_("decision"), max_length=8)
    reasons = models.JSONField(_("reason codes"), default=list)
    consent_version = models.PositiveIntegerField(_("consent version used"), null=True)

    class Meta:
        indexes = [models.Index(fields=["person", "-at"], name="decision_audit_person_at_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.decision} at {self.at:%Y-%m-%d %H:%M}"


class BulkDecisionRun(models.Model):
    """The audit of one bulk check: who asked, for which project, when, and the distinct answers it gave.

    A bulk check of a million lines audits a million decisions. Each person's row
    (:class:`BulkDecision`) keeps only the person, the line, the answer's class and the consent version; what
    every row of the check shares is here, once. The id is the bulk check's: the job and its files expire,
    the audit stays.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    at = models.DateTimeField(_("evaluated at"))
    organisation = models.ForeignKey(
        "phr.Organisation", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    client_id = models.CharField(_("API client"), max_length=64, blank=True)
    project = models.ForeignKey(
        "consent.Project", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # The distinct answers, by class number: [[decision, [reason codes]], …]; only ever appended to.
    verdicts = models.JSONField(_("answers by class"), default=list)

    def __str__(self) -> str:
        return f"bulk check audit {self.id} at {self.at:%Y-%m-%d %H:%M}"


class BulkDecision(models.Model):
    """One line of a bulk check that named a known person, and the answer the check gave about them.

    The primary key starts with the person, so it is also the index the person's page reads, and a
    check's rows (sorted by person) go into one B-tree instead of a row identity and a person index: a
    quarter of a million rows take half the time the wide audit row with its two indexes took.
    """

    pk = models.CompositePrimaryKey("person", "run", "line")
    # No database constraints (see DecisionAudit): a million rows a check, and rows only come from loaded objects.
    person = models.ForeignKey(
        "phr.Person", on_delete=models.CASCADE, related_name="bulk_decisions", db_constraint=False, db_index=False
    )
    run = models.ForeignKey(
        BulkDecisionRun, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
    line = models.PositiveIntegerField(_("line of the upload"))
    verdict = models.PositiveSmallIntegerField(_("answer class"))
    consent_version = models.PositiveIntegerField(_("consent version used"), null=True)

    def __str__(self) -> str:
        return f"line {self.line} of bulk check {self.run_id}"


class ChangeKind(models.TextChoices):
    CONSENT = "consent", _("The person's choices changed")
    NOTICE = "notice", _("A notice reached the person")
    LINK = "link", _("An identifier was linked to the person")
    REGIME = "regime", _("A regime changed (everyone)")


class ConsentChange(models.Model):
    """A row of the consent-changes feed, written by database triggers in the writer's own transaction.

    ``position`` is stamped at commit (PostgreSQL: a deferred trigger takes the next value of a counter row
    and holds its lock until the commit ends, so positions follow commit order and a reader that sees
    position N has every row below it). SQLite leaves it 0: one writer at a time makes ``id`` commit order.
    """

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField(_("commit position"), null=True)
    # No foreign key: triggers write these rows, and the feed must not block deleting a person.
    person_id = models.UUIDField(_("person"), null=True, blank=True, help_text=_("empty: everyone"))
    kind = models.CharField(_("kind"), max_length=8, choices=ChangeKind.choices)
    at = models.DateTimeField(_("at"), db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["position", "id"], name="consent_change_position_idx")]

    def __str__(self) -> str:
        return f"{self.kind} change {self.id}"


class ConsentChangeCounter(models.Model):
    """The one row whose lock orders commits of consent changes (PostgreSQL): the last position given."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="consent_change_counter_single_row")]

    def __str__(self) -> str:
        return f"consent change position {self.value}"
