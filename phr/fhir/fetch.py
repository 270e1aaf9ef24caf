"""Pulling one patient's resources: Patient/$everything, or a search per type, following ``next`` links;
then the referenced Practitioner, Organization, Medication and Binary resources the pull did not bring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from phr import json_limits
from phr.fhir.errors import FhirClientError, FhirResponseError
from phr.fhir.http import FHIR_JSON, FhirHttp, same_base
from phr.fhir.scopes import REFERENCED_RESOURCE_TYPES
from phr.fhir.spool import Spool
from phr.records.reader import MalformedUpload, RawEntry, read_bundle_bytes

PAGE_SIZE = 100
MAX_PAGES = 1000
REFERENCE_ROUNDS = 3
# Referenced resources that are gone or outside the granted scopes are left out, not fatal.
SKIPPABLE_STATUSES = frozenset({401, 403, 404, 410})

Key = tuple[str, str]


class Collected:
    """The entries of one pull, spooled to disk page by page as they arrive (``phr.fhir.spool``).

    Replayed by ``entries``: one per resource (the last seen wins), plus entries that could not be read,
    which ingest reports as rejected. Memory holds only where each resource's latest copy lies and the
    Practitioner, Organization, Medication and Binary references met, never the resources themselves.
    Use it in a ``with`` block: leaving it deletes the spool, also on failure.
    """

    def __init__(self, *, base_url: str = "") -> None:
        self.base_url = base_url
        self._spool = Spool()
        self._latest: dict[Key, tuple[int, int]] = {}
        self._search_page: dict[int, int] = {}
        self._unreadable = 0
        self.referenced: set[Key] = set()
        self.unresolved: list[Key] = []

    def __enter__(self) -> Collected:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._spool.close()

    def add_page(self, data: bytes, *, page: int) -> None:
        """Spool one answer (a search page, or a single resource) and note what it holds."""
        number = self._spool.append(data)
        self._search_page[number] = page
        try:
            for ordinal, entry in enumerate(read_bundle_bytes(data)):
                self._note(entry, (number, ordinal))
        except MalformedUpload as exc:
            raise FhirClientError("the server answered with JSON that cannot be read") from exc

    def _note(self, entry: RawEntry, where: tuple[int, int]) -> None:
        key = _key_of(entry)
        if key is None:
            if entry.resource is not None or not entry.skip:
                self._unreadable += 1
            return
        self._latest[key] = where
        for reference in _references(entry.resource):
            target = reference_key(reference, self.base_url) if self.base_url else None
            if target is not None and target[0] in REFERENCED_RESOURCE_TYPES:
                self.referenced.add(target)

    def __contains__(self, key: Key) -> bool:
        return key in self._latest

    def __len__(self) -> int:
        return len(self._latest)

    def keys(self) -> set[Key]:
        """(type, id) of every resource the pull returned, valid or not."""
        return set(self._latest)

    @property
    def has_unreadable(self) -> bool:
        return self._unreadable > 0

    def entries(self) -> Iterator[RawEntry]:
        """The entries to ingest, read back from the spool one page at a time."""
        for number, data in self._spool.read():
            page = self._search_page[number]
            for ordinal, entry in enumerate(read_bundle_bytes(data)):
                key = _key_of(entry)
                if key is None and entry.resource is None and entry.skip:
                    continue
                if key is not None and self._latest.get(key) != (number, ordinal):
                    continue  # a later page brought a newer copy
                if page > 1 and entry.position:
                    entry = replace(entry, position=f"{entry.position} (page {page})")
                yield entry


def _key_of(entry: RawEntry) -> Key | None:
    resource = entry.resource
    if resource is None:
        return None
    rtype, rid = resource.get("resourceType"), resource.get("id")
    return (rtype, rid) if isinstance(rtype, str) and isinstance(rid, str) else None


def fhir_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fetch(http: FhirHttp, url: str, params: dict[str, str] | None) -> bytes:
    response = http.request("GET", url, params=params, headers={"Accept": FHIR_JSON})
    if response.status_code >= 400:
        raise FhirResponseError(
            f"{response.request.url.host} answered {response.status_code}", status=response.status_code
        )
    data = response.content
    # httpx links a response and its stream both ways; unlinking them frees the page as soon as it is
    # spooled, rather than at the next full garbage collection (pages would pile up in memory until then).
    response.stream = httpx.ByteStream(b"")
    return data


def follow_pages(http: FhirHttp, url: str, params: dict[str, str] | None, into: Collected) -> None:
    """Read a searchset and every page after it; a ``next`` link off the endpoint's base is refused."""
    next_url: str | None = url
    next_params = params
    for page in range(1, MAX_PAGES + 1):
        if next_url is None:
            return
        data = _fetch(http, next_url, next_params)
        try:
            bundle = json_limits.loads(data)
        except json_limits.TooDeep as exc:
            raise FhirClientError(f"a search answered with JSON nested too deep ({exc})") from exc
        except ValueError as exc:
            raise FhirClientError("a search answered with a body that is not JSON") from exc
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise FhirClientError("a search answered with something other than a Bundle")
        into.add_page(data, page=page)
        links = bundle.get("link") or []
        next_url = next(
            (link.get("url") for link in links if isinstance(link, dict) and link.get("relation") == "next"), None
        )
        next_params = None
        if next_url is not None and not same_base(http.base_url, next_url):
            raise FhirClientError("a next link points away from the endpoint")
    raise FhirClientError("the search had too many pages")


def everything(http: FhirHttp, patient_id: str, into: Collected) -> None:
    follow_pages(http, f"Patient/{patient_id}/$everything", {"_count": str(PAGE_SIZE)}, into)


def search_each_type(
    http: FhirHttp, patient_id: str, types: list[str], into: Collected, *, since: datetime | None, page_size: int
) -> None:
    for resource_type in types:
        params = {"_count": str(page_size)}
        if resource_type == "Patient":
            params["_id"] = patient_id
        else:
            params["patient"] = patient_id
        if since is not None:
            params["_lastUpdated"] = f"gt{fhir_instant(since)}"
        follow_pages(http, resource_type, params, into)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            elif key == "url" and isinstance(value, str) and "Binary/" in value:
                yield value  # an attachment stored on the server as a Binary
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def reference_key(reference: str, base_url: str) -> Key | None:
    """(type, id) of a literal reference to this server: relative, or absolute under its base."""
    if reference.startswith("#") or reference.startswith("urn:"):
        return None
    if reference.startswith(("http://", "https://")):
        if not same_base(base_url, reference):
            return None
        reference = reference[len(base_url.rstrip("/")) + 1 :]
    parts = reference.split("?")[0].strip("/").split("/")
    if len(parts) not in (2, 4) or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def resolve_references(http: FhirHttp, into: Collected, *, known: set[Key] | frozenset[Key] = frozenset()) -> None:
    """Fetch what the pull refers to but did not bring and is not ``known`` (stored by an earlier run),
    a few rounds deep (a Practitioner's Organization)."""
    tried: set[Key] = set(known)
    for _round in range(REFERENCE_ROUNDS):
        wanted = sorted(key for key in into.referenced if key not in into and key not in tried)
        if not wanted:
            return
        tried.update(wanted)
        for rtype, rid in wanted:
            try:
                data = _fetch(http, f"{rtype}/{rid}", None)
            except FhirResponseError as exc:
                if exc.status in SKIPPABLE_STATUSES:
                    into.unresolved.append((rtype, rid))
                    continue
                raise
            into.add_page(data, page=1)
