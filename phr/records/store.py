"""One ingest in progress: entries prepared one by one, then stored a batch at a time.

Preparing an entry checks it (type, id, patient, validation) and works out what the index keeps;
storing a batch looks up what the source already holds, keeps earlier versions, encrypts, and writes
rows in bulk (``phr.records.bulk``). ``phr.records.services.ingest`` is the entry point.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from phr.categories import tier_of
from phr.crypto.datakeys import data_key_for, decrypt, sealer_for, unwrap
from phr.crypto.envelope import open_sealed, token_key_id
from phr.models import Connection, DataKey, FhirResource, FhirResourceVersion, Organisation, Person, ResourceIndex
from phr.models.records import ResourceRole
from phr.records import facts
from phr.records.bulk import insert_rows, stored_versions
from phr.records.classify import Classification, classify
from phr.records.codes import Code, main_code
from phr.records.digests import code_digest, content_digest
from phr.records.patient import PatientMatcher, PersonCheck
from phr.records.reader import RawEntry
from phr.records.report import IngestReport
from phr.records.validation import model_for, validation_problems

BATCH_SIZE = 500
# A batch is also stored once it holds this much raw JSON, so large resources never pile up in memory.
BATCH_BYTES = 2 * 1024 * 1024
RESOURCE_COLUMNS = (
    "id",
    "person",
    "source_key",
    "connection",
    "resource_type",
    "resource_id",
    "version",
    "source_version_id",
    "source_last_updated",
    "content_digest",
    "raw_encrypted",
    "self_reported",
    "created_at",
    "updated_at",
)
INDEX_COLUMNS = (
    "resource",
    "person",
    "resource_type",
    "role",
    "category",
    "tier",
    "status",
    "effective_at",
    "effective_date",
    "code_system",
    "code_digest",
    "code_encrypted",
    "display_encrypted",
    "source_organisation",
    "encounter_ref",
    "self_reported",
)
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def raw_context(resource_id: object) -> str:
    return f"phr.fhirresource.raw:{resource_id}"


def version_context(resource_id: object, version: int) -> str:
    return f"phr.fhirresourceversion.raw:{resource_id}:{version}"


def code_context(resource_id: object) -> str:
    return f"phr.resourceindex.code:{resource_id}"


def display_context(resource_id: object) -> str:
    return f"phr.resourceindex.display:{resource_id}"


@dataclass(frozen=True, slots=True)
class _Prepared:
    resource_type: str
    resource_id: str
    raw: bytes
    digest: str
    classification: Classification
    code: Code | None
    when: facts.When
    status: str
    encounter_ref: str
    source_version_id: str
    source_last_updated: datetime | None


def _data_key(person: Person) -> DataKey:
    """The person's data key; the instance caches it, so one caller's many ingests look it up once."""
    try:
        return person.data_key
    except DataKey.DoesNotExist:
        return data_key_for(person)


def _logical_id(resource: dict[str, Any], full_url: str) -> str | None:
    """The resource's id, else the id its entry's fullUrl gives it (transaction bundles often omit ids)."""
    resource_id = resource.get("id")
    if isinstance(resource_id, str):
        return resource_id if _FHIR_ID.match(resource_id) else None
    if full_url.startswith("urn:uuid:"):
        candidate = full_url.removeprefix("urn:uuid:")
    else:
        candidate = full_url.rstrip("/").rsplit("/", 1)[-1] if "/" in full_url else ""
    return candidate if _FHIR_ID.match(candidate) else None


def _meta(resource: dict[str, Any]) -> tuple[str, datetime | None]:
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return "", None
    version_id = meta.get("versionId")
    last_updated = meta.get("lastUpdated")
    moment = facts.parse_fhir_datetime(last_updated).at if isinstance(last_updated, str) else None
    return (version_id[:64] if isinstance(version_id, str) else ""), moment


class Ingestion:
    """One call of ``ingest``: the person's key, the patient matcher, the report, and a batch in hand."""

    def __init__(
        self,
        *,
        person: Person,
        source_key: str,
        connection: Connection | None,
        matcher: PatientMatcher,
        source_organisation: Organisation | None,
        person_check: PersonCheck | None = None,
    ) -> None:
        self.person = person
        self.source_key = source_key
        self.connection = connection
        self.matcher = matcher
        self.source_organisation = source_organisation
        self.person_check = person_check
        self.data_key: DataKey = _data_key(person)
        self.sealer = sealer_for(self.data_key)
        self.report = IngestReport()
        self.batch: dict[tuple[str, str], _Prepared] = {}
        self.batch_bytes = 0

    def add(self, entry: RawEntry) -> None:
        prepared = self._prepare(entry)
        if prepared is None:
            return
        key = (prepared.resource_type, prepared.resource_id)
        if key in self.batch:
            self.flush()  # a later version of a resource in this batch: store the earlier one first
        self.batch[key] = prepared
        self.batch_bytes += len(prepared.raw)
        if len(self.batch) >= BATCH_SIZE or self.batch_bytes >= BATCH_BYTES:
            self.flush()

    def _prepare(self, entry: RawEntry) -> _Prepared | None:
        report = self.report
        resource = entry.resource
        if entry.problem or resource is None:
            record = report.skip if entry.skip else report.reject
            record(resource_type="", resource_id="", position=entry.position, reason=entry.problem)
            return None
        resource_type = resource.get("resourceType")
        raw_id = resource.get("id")
        shown_id = raw_id[:64] if isinstance(raw_id, str) else ""
        if not isinstance(resource_type, str) or not resource_type:
            report.reject(resource_type="", resource_id=shown_id, position=entry.position, reason=_("No resourceType."))
            return None
        model = model_for(resource_type)
        if model is None:
            report.skip(
                resource_type=resource_type[:64],
                resource_id=shown_id,
                position=entry.position,
                reason=_("Not a FHIR R4 resource type."),
            )
            return None
        resource_id = _logical_id(resource, entry.full_url)
        if resource_id is None:
            report.reject(
                resource_type=resource_type,
                resource_id=shown_id,
                position=entry.position,
                reason=_("The resource has no usable id."),
            )
            return None
        refusal = self.matcher.problem(resource, entry.full_url)
        if refusal:
            report.reject(resource_type=resource_type, resource_id=resource_id, position=entry.position, reason=refusal)
            return None
        errors = validation_problems(model, resource)
        if errors:
            report.reject(
                resource_type=resource_type,
                resource_id=resource_id,
                position=entry.position,
                reason=_("The resource is not valid FHIR R4."),
                errors=errors,
            )
            return None
        if resource_type == "Patient" and self.person_check is not None:
            self.person_check.check(resource)
        version_id, last_updated = _meta(resource)
        return _Prepared(
            resource_type=resource_type,
            resource_id=resource_id,
            raw=entry.raw,
            digest=content_digest(entry.raw),
            classification=classify(resource),
            code=main_code(resource),
            when=facts.effective(resource),
            status=facts.status(resource),
            encounter_ref=facts.encounter_reference(resource),
            source_version_id=version_id,
            source_last_updated=last_updated,
        )

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch, self.batch_bytes = self.batch, {}, 0
        existing = stored_versions(self.person, self.source_key, {resource_id for _type, resource_id in batch})
        now = timezone.now()
        connection_id = self.connection.pk if self.connection is not None else None
        sealer = self.sealer
        created: list[tuple[object, ...]] = []
        changed: list[tuple[uuid.UUID, _Prepared]] = []
        indexes: list[tuple[object, ...]] = []
        for key, prepared in batch.items():
            found = existing.get(key)
            if found is not None and found.digest == prepared.digest and found.live:
                self.report.unchanged += 1
                continue
            if found is not None:
                changed.append((found.pk, prepared))
                continue
            resource_pk = uuid.uuid4()
            created.append(
                (
                    resource_pk,
                    self.person.pk,
                    self.source_key,
                    connection_id,
                    prepared.resource_type,
                    prepared.resource_id,
                    1,
                    prepared.source_version_id,
                    prepared.source_last_updated,
                    prepared.digest,
                    sealer.seal(prepared.raw, raw_context(resource_pk)),
                    False,
                    now,
                    now,
                )
            )
            indexes.append(self._index(resource_pk, prepared, self_reported=False))
        insert_rows(FhirResource, RESOURCE_COLUMNS, created)
        updated = self._update(changed, now, indexes)
        insert_rows(ResourceIndex, INDEX_COLUMNS, indexes)
        self.report.created += len(created)
        self.report.updated += updated

    def _update(
        self, changed: list[tuple[uuid.UUID, _Prepared]], now: datetime, indexes: list[tuple[object, ...]]
    ) -> int:
        """Store new versions of resources the source changed (or served again): the earlier one is kept
        as a version, the row takes the new one, and the index row is rebuilt (appended to ``indexes``)."""
        if not changed:
            return 0
        rows = FhirResource.objects.in_bulk([pk for pk, _ in changed])
        updated: list[FhirResource] = []
        versions: list[FhirResourceVersion] = []
        for pk, prepared in changed:
            row = rows[pk]
            versions.append(
                FhirResourceVersion(
                    resource=row,
                    version=row.version,
                    raw_encrypted=self._reseal(bytes(row.raw_encrypted), row.id, row.version),
                    source_version_id=row.source_version_id,
                    received_at=row.updated_at,
                )
            )
            row.version += 1
            row.connection = self.connection
            row.content_digest = prepared.digest
            row.source_version_id = prepared.source_version_id
            row.source_last_updated = prepared.source_last_updated
            row.raw_encrypted = self.sealer.seal(prepared.raw, raw_context(row.id))
            row.updated_at = now
            row.deleted_at_source = None  # served again by the source
            updated.append(row)
            indexes.append(self._index(row.id, prepared, self_reported=row.self_reported))
        FhirResource.objects.bulk_update(
            updated,
            [
                "version",
                "connection",
                "content_digest",
                "source_version_id",
                "source_last_updated",
                "raw_encrypted",
                "updated_at",
                "deleted_at_source",
            ],
        )
        FhirResourceVersion.objects.bulk_create(versions)
        ResourceIndex.objects.filter(resource__in=[row.id for row in updated]).delete()
        return len(updated)

    def _reseal(self, token: bytes, resource_id: uuid.UUID, version: int) -> bytes:
        """Move a stored version to the versions table: its ciphertext is bound to its row, so re-seal it."""
        context = raw_context(resource_id)
        if token_key_id(token) == self.data_key.id.bytes:
            plaintext = open_sealed(token, key=unwrap(self.data_key), context=context)
        else:
            plaintext = decrypt(token, context=context)
        return self.sealer.seal(plaintext, version_context(resource_id, version))

    def _index(self, resource_pk: uuid.UUID, prepared: _Prepared, *, self_reported: bool) -> tuple[object, ...]:
        """An index row, in INDEX_COLUMNS order."""
        category = prepared.classification.category
        code = prepared.code
        has_code = code is not None and bool(code.code)
        has_display = code is not None and bool(code.display)
        return (
            resource_pk,
            self.person.pk,
            prepared.resource_type,
            ResourceRole.SUPPORTING if prepared.classification.supporting else ResourceRole.CLINICAL,
            category or "",
            tier_of(category) if category else None,
            prepared.status,
            prepared.when.at,
            prepared.when.day,
            code.system[:255] if code else "",
            code_digest(code.system, code.code) if code and has_code else "",
            self.sealer.seal(code.code.encode(), code_context(resource_pk)) if code and has_code else None,
            self.sealer.seal(code.display.encode(), display_context(resource_pk)) if code and has_display else None,
            self.source_organisation.pk if self.source_organisation is not None else None,
            prepared.encounter_ref,
            self_reported,
        )
