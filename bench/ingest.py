"""FHIR ingest throughput (validate, classify, encrypt, index, store) against plain fhir.resources parsing.

Run: ``DJANGO_DEBUG=true .venv/bin/python bench/ingest.py [--bundles N] [--repeat R]`` (PostgreSQL when
``DATABASE_URL`` points at it; a throw-away test database is created and dropped either way).

Workload: ``carebundle`` transaction Bundles, one synthetic patient each (≈ 48 resources: Patient,
Practitioner, Encounter, Conditions, lab and vital-sign Observations, DiagnosticReports, MedicationRequests),
serialised to bytes once. Each Bundle goes through ``phr.records.services.ingest`` fed by the streaming
reader, exactly as an upload is: ijson parse, per-entry validation with ``fhir.resources`` (R4B), the
patient check, classification and codes, HMAC digest, AES-GCM encryption of payload, code and display
with the person's data key, and bulk inserts of resources and index rows, one transaction per Bundle.

Baseline (DESIGN.md §8): plain ``fhir.resources`` parsing of the same bytes,
``Bundle.model_validate_json(data)`` per Bundle. The target is ratio ≥ 0.7. Also printed, for an honest
reading: ``validate_only_per_s``, the cost of this pipeline's own validation step alone (ijson + one
``model_validate`` per entry), which is faster than whole-Bundle parsing.
Timings are taken Bundle by Bundle, baseline and pipeline one after the other, and each is the fastest
of ``--repeat`` rounds (a new person each round, so every round creates rather than finds unchanged).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import carebundle  # noqa: E402
import ijson  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from fhir.resources.R4B import get_fhir_model_class  # noqa: E402
from fhir.resources.R4B.bundle import Bundle  # noqa: E402

from phr import services as party_services  # noqa: E402
from phr.models import Person  # noqa: E402
from phr.records.reader import read_json  # noqa: E402
from phr.records.services import ingest  # noqa: E402


def make_bundles(count: int) -> list[bytes]:
    profiles = list(carebundle.PROFILES)
    return [
        carebundle.to_json(carebundle.generate_bundle(profile=profiles[i % len(profiles)], seed=i), indent=0).encode()
        for i in range(count)
    ]


def time_baseline(data: bytes) -> float:
    started = time.perf_counter()
    Bundle.model_validate_json(data)
    return time.perf_counter() - started


def time_validate_only(data: bytes) -> float:
    started = time.perf_counter()
    for entry in ijson.items(io.BytesIO(data), "entry.item", use_float=False):
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return time.perf_counter() - started


def time_ingest(person: Person, data: bytes, source_key: str) -> tuple[float, int]:
    started = time.perf_counter()
    report = ingest(person=person, source_key=source_key, entries=read_json(io.BytesIO(data)))
    return time.perf_counter() - started, report.created


def measure(bundles: list[bytes], rounds: int) -> tuple[float, float, float]:
    """Per Bundle, the fastest of ``rounds`` timings of each, measured one after the other.

    Interleaving Bundle by Bundle (rather than one long run after another) puts the baseline and the
    pipeline under the same machine load, which matters on a shared machine; the minimum discards
    the rounds a neighbour's burst slowed down.
    """
    best_baseline = [float("inf")] * len(bundles)
    best_ingest = [float("inf")] * len(bundles)
    best_validate = [float("inf")] * len(bundles)
    expected = [len(json.loads(data)["entry"]) for data in bundles]
    for round_number in range(rounds):
        person = party_services.create_person(
            family_name="ベンチ", given_name=str(round_number), birth_date=date(1970, 1, 1)
        )
        ingest(person=person, source_key="bench:warm-up", entries=[])  # the data key exists, as for anyone in use
        for index, data in enumerate(bundles):
            best_baseline[index] = min(best_baseline[index], time_baseline(data))
            elapsed, created = time_ingest(person, data, f"bench:{index}")
            if created != expected[index]:
                raise SystemExit(f"ingest stored {created} of {expected[index]} resources of bundle {index}")
            best_ingest[index] = min(best_ingest[index], elapsed)
            best_validate[index] = min(best_validate[index], time_validate_only(data))
    return sum(best_baseline), sum(best_ingest), sum(best_validate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    # As in production and under the test runner: no query log (DJANGO_DEBUG only provides development keys).
    settings.DEBUG = False
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else f"test_{settings.DATABASES['default']['NAME']}_bench_ingest"
    )
    bundles = make_bundles(args.bundles)
    resources = sum(len(json.loads(data)["entry"]) for data in bundles)
    config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        best_baseline, best_pipeline, best_validate = measure(bundles, args.repeat)
        vendor = connection.vendor
    finally:
        teardown_databases(config, verbosity=0)

    figures = {
        "bench": "ingest",
        "resources_per_s": round(resources / best_pipeline),
        "baseline_per_s": round(resources / best_baseline),
        "ratio": round(best_baseline / best_pipeline, 2),
        "validate_only_per_s": round(resources / best_validate),
        "ratio_to_validate_only": round(best_validate / best_pipeline, 2),
        "resources": resources,
        "bundles": len(bundles),
        "database": vendor,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
