"""A batch of 10,000 decisions over HTTP (gunicorn on loopback) against a bare set-based lookup, same run.

Run: ``DATABASE_URL=postgresql://... DJANGO_DEBUG=true .venv/bin/python bench/batch.py [--rounds R]``
(a throw-away test database is created and dropped; PostgreSQL only).

Server: one gunicorn sync worker serving the Mamori URL conf, production-like (``DEBUG`` off).

Workload: ``--persons`` persons with a patient number of one hospital (one in five with a real choice
copied, each with its own directive ids and times: accepted, declined, opted out), and
``POST /api/v1/decisions:batch`` with a Bearer token and 10,000 of them drawn at random each round: the
whole path, JSON parsing and identifier checks, the blind index of each identifier, persons, states and
notices in a fixed number of queries, the engine, 10,000 audit rows and the 10,000 results rendered as JSON
(about 4 MB).

Baseline (same run, in process): blind-index the same 10,000 identifiers and fetch their persons with one
``blind_index IN (…)`` query — the least a set-based batch lookup does, with no HTTP, no decision, no
audit. Target (issue 6): a batch of 10,000 ≤ 1 s; ``ratio`` is baseline / batch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

if __name__ != "__main__":
    # Imported by gunicorn (``--chdir bench batch:application``): serve the URL conf, production-like.
    from django.core.wsgi import get_wsgi_application

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    application = get_wsgi_application()


def main() -> None:
    import argparse
    import json
    import random
    import statistics
    import time
    from http.client import HTTPConnection

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bulk import SYSTEM, choice_templates, make_project, populate
    from served import start_worker

    from consent.api_clients import issue_token, register_client
    from phr import services as party_services
    from phr.crypto.blind_index import blind_index
    from phr.models import Identifier
    from phr.models.parties import OrganisationKind

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/batch.py needs PostgreSQL: set DATABASE_URL=postgresql://...")
    settings.DEBUG = False
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "test_mamori_bench_batch"
    settings.MAMORI_API_TOKEN_SECONDS = 3600
    config = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        call_command("createcachetable", verbosity=0)
        hospital = party_services.create_organisation(
            name="ベンチ病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system=SYSTEM
        )
        project = make_project(hospital)
        numbers = populate(args.persons, choice_templates(project))
        client, _ = register_client(
            organisation=hospital, actor=None, name="bench", allowed_scopes=["consent.check"], with_secret=True
        )
        token = issue_token(client=client, scopes=["consent.check"])
        server, port = start_worker("batch:application", timeout=120)

        def request(method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
            http = HTTPConnection("127.0.0.1", port, timeout=120)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                http.request(method, target, body=body, headers=headers)
                response = http.getresponse()
                return response.status, response.read()
            finally:
                http.close()

        rng = random.Random(6)

        def body(values: list[str]) -> bytes:
            identifiers = [{"system": SYSTEM, "value": value} for value in values]
            return json.dumps({"project": str(project.pk), "identifiers": identifiers}).encode()

        def baseline(values: list[str]) -> float:
            started = time.perf_counter()
            keys = [blind_index(SYSTEM, value) for value in values]
            found = list(
                Identifier.objects.filter(system=SYSTEM, blind_index__in=keys).values_list("blind_index", "person_id")
            )
            elapsed = time.perf_counter() - started
            assert len(found) == len(values)
            return elapsed

        status, _ = request("POST", "/api/v1/decisions:batch", body(rng.sample(numbers, 100)))  # warm up
        assert status == 200, status
        batch_s: list[float] = []
        base_s: list[float] = []
        for round_ in range(args.rounds):
            values = rng.sample(numbers, args.batch)
            started = time.perf_counter()
            status, answer = request("POST", "/api/v1/decisions:batch", body(values))
            batch_s.append(time.perf_counter() - started)
            assert status == 200, (status, answer[:300])
            results = json.loads(answer)["results"]
            assert [r["identifier"]["value"] for r in results] == values
            base_s.append(baseline(values))
            print(
                f"round {round_ + 1}: batch {batch_s[-1]:.3f} s, baseline {base_s[-1]:.3f} s, "
                f"load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        teardown_databases(config, verbosity=0)
    batch_median, base_median = statistics.median(batch_s), statistics.median(base_s)
    figures = {
        "bench": "batch",
        "database": "postgresql",
        "persons": args.persons,
        "identifiers": args.batch,
        "rounds": args.rounds,
        "batch_s": round(batch_median, 3),
        "batch_best_s": round(min(batch_s), 3),
        "batch_worst_s": round(max(batch_s), 3),
        "baseline_s": round(base_median, 3),
        "ratio": round(base_median / batch_median, 3),
        "target_s": 1.0,
        "load_average": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
