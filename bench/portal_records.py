"""Records dashboard and timeline p95 for a person with 20,000 resources, against a bare indexed query.

Run: ``DJANGO_DEBUG=true .venv/bin/python bench/portal_records.py [--resources N] [--requests R]``
(PostgreSQL when ``DATABASE_URL`` points at it; a throw-away test database is created and dropped).

Workload: one person whose store holds ``--resources`` clinical resources ingested through
``phr.records.services.ingest`` (lab Observations under 40 tests, vital signs, Conditions, allergies,
MedicationRequests, referral Compositions, Encounters), then ``--requests`` full requests of each page
through Django's test client, signed in as the person: session, authorisation, the index queries, bulk
decryption of the rows shown, the raw JSON of the latest labs, template rendering.

Baseline (DESIGN.md §8): a bare indexed query of the same rows as each page lists, in the same run: the
dashboard's six section queries and the timeline's first page (``values_list`` of the index columns,
no decryption, no rendering). Target: p95 ≤ 150 ms for both pages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from phr import services as party_services  # noqa: E402
from phr.models import Person, ResourceIndex, User  # noqa: E402
from phr.records import reading  # noqa: E402
from phr.records.services import ingest, upload_source_key  # noqa: E402

SUBJECT = {"reference": "Patient/bench"}
LAB = "http://terminology.hl7.org/CodeSystem/observation-category"
START = date(2000, 1, 1)


def _day(n: int) -> str:
    return (START + timedelta(days=n % 9000)).isoformat()


def _resource(n: int) -> dict[str, Any]:
    kind = n % 20
    when = _day(n)
    if kind < 12 or kind == 12:
        category = "laboratory" if kind < 12 else "vital-signs"
        return {
            "resourceType": "Observation",
            "id": f"o{n}",
            "status": "final",
            "category": [{"coding": [{"system": LAB, "code": category}]}],
            "code": {
                "coding": [
                    {"system": "http://loinc.org", "code": f"{1000 + n % 40}-{n % 10}", "display": f"検査{n % 40}"}
                ]
            },
            "subject": SUBJECT,
            "effectiveDateTime": f"{when}T09:00:00+09:00",
            "valueQuantity": {"value": n % 200, "unit": "mg/dL"},
            "referenceRange": [{"low": {"value": 50}, "high": {"value": 150}}],
        }
    if kind in (13, 14):
        return {
            "resourceType": "Condition",
            "id": f"c{n}",
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10", "display": "高血圧症"}]},
            "subject": SUBJECT,
            "recordedDate": when,
        }
    if kind == 15:
        return {
            "resourceType": "AllergyIntolerance",
            "id": f"a{n}",
            "category": ["medication" if n % 2 else "food"],
            "code": {"text": f"アレルゲン{n}"},
            "patient": SUBJECT,
            "recordedDate": when,
        }
    if kind in (16, 17):
        return {
            "resourceType": "MedicationRequest",
            "id": f"m{n}",
            "status": "active" if n % 3 else "completed",
            "intent": "order",
            "medicationCodeableConcept": {"text": f"薬{n % 50}"},
            "subject": SUBJECT,
            "authoredOn": when,
        }
    if kind == 18:
        return {
            "resourceType": "Composition",
            "id": f"d{n}",
            "status": "final",
            "type": {"coding": [{"system": "http://loinc.org", "code": "57133-1", "display": "診療情報提供書"}]},
            "subject": SUBJECT,
            "date": f"{when}T10:00:00+09:00",
            "author": [{"display": "医師"}],
            "title": "診療情報提供書",
            "section": [{"title": "紹介目的", "text": {"status": "additional", "div": "<div>精査</div>"}}],
        }
    return {
        "resourceType": "Encounter",
        "id": f"e{n}",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "外来"},
        "subject": SUBJECT,
        "period": {"start": f"{when}T09:00:00+09:00"},
    }


def populate(person: Person, count: int) -> None:
    batch = 2000
    stored = 0
    for first in range(0, count, batch):
        report = ingest(
            person=person,
            source_key=upload_source_key(person),
            entries=[_resource(n) for n in range(first, min(count, first + batch))],
        )
        if report.rejected:
            raise SystemExit(f"ingest refused {report.rejected}: {report.rejected_entries[:2]}")
        stored += report.created
    if stored != count:
        raise SystemExit(f"stored {stored} of {count}")


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def timed(action: Callable[[], object], requests: int) -> list[float]:
    for _ in range(3):
        action()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def bare_dashboard(person: Person) -> None:
    rows = reading.index_of(person)
    for query in (
        rows.filter(category__in=reading.CONDITION_CATEGORIES, status__in=reading.ACTIVE_CONDITION),
        rows.filter(category__in=reading.ALLERGY_CATEGORIES),
        rows.filter(category="prescriptions", status__in=reading.CURRENT_PRESCRIPTION),
        rows.filter(category="lab_results"),
        rows.filter(category="documents"),
    ):
        reading.newest(query, reading.ENTRY_FIELDS, 0, 8)


def bare_timeline(person: Person) -> None:
    rows = ResourceIndex.objects.filter(person=person, role="clinical")
    reading.newest(rows, reading.ENTRY_FIELDS, 0, reading.PAGE_SIZE + 1)


def get(client: Client, path: str) -> Callable[[], object]:
    def fetch() -> object:
        response = client.get(path, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        return response

    return fetch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else "test_mamori_bench_portal_records"
    )
    config = setup_databases(verbosity=0, interactive=False)
    try:
        user = User.objects.create_user(email="bench@example.test", password=None)
        person = party_services.create_person(
            user=user, family_name="ベンチ", given_name="太郎", birth_date=date(1970, 1, 1)
        )
        started = time.perf_counter()
        populate(person, args.resources)
        populated_s = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        client.force_login(user)
        dashboard = timed(get(client, "/me/records/"), args.requests)
        timeline = timed(get(client, "/me/records/timeline/"), args.requests)
        timeline_deep = timed(get(client, "/me/records/timeline/?page=200"), args.requests)
        dashboard_base = timed(lambda: bare_dashboard(person), args.requests)
        timeline_base = timed(lambda: bare_timeline(person), args.requests)
        vendor = connection.vendor
    finally:
        teardown_databases(config, verbosity=0)

    figures = {
        "bench": "portal_records",
        "resources": args.resources,
        "requests": args.requests,
        "dashboard_p95_ms": round(p95(dashboard), 1),
        "dashboard_baseline_p95_ms": round(p95(dashboard_base), 2),
        "timeline_p95_ms": round(p95(timeline), 1),
        "timeline_page200_p95_ms": round(p95(timeline_deep), 1),
        "timeline_baseline_p95_ms": round(p95(timeline_base), 2),
        "dashboard_ratio": round(p95(dashboard_base) / p95(dashboard), 3),
        "timeline_ratio": round(p95(timeline_base) / p95(timeline), 3),
        "target_ms": 150,
        "populate_s": round(populated_s, 1),
        "database": vendor,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
