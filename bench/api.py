"""Single decision over HTTP (gunicorn on loopback) against a bare primary-key lookup endpoint, same run.

Run: ``DATABASE_URL=postgresql://... DJANGO_DEBUG=true .venv/bin/python bench/api.py [--seconds S] [--clients C]``
(a throw-away test database is created and dropped; Redis is used for the rate-limit cache when
``REDIS_URL`` is set, as in production).

Server: one gunicorn sync worker (one core) serving this module as its WSGI app: the whole Mamori URL
conf plus ``/bench/pk/<uuid>``, a bare Django view that reads one person by primary key and answers JSON
(no DRF, no authentication, no throttle, no audit) — the least an HTTP lookup of a row costs here.

Workload: ``GET /api/v1/decisions?identifier=…&project=…`` with a Bearer token for 10,000 persons linked to
the hospital (one in five with a choice), each request the full path: token lookup, throttle, project,
blind-index lookup, state and notices, the engine, the audit row. Load: ``--clients`` threads on the same
machine (new connection per request, as a sync worker closes it). Target (DESIGN §8): ≥ 1,000 requests/s
per worker core, ≥ 0.8 × the bare endpoint, p99 ≤ 10 ms.
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
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402

from phr.models import Person  # noqa: E402


def bare_pk(request: HttpRequest, pk: str) -> JsonResponse:
    row = Person.objects.filter(pk=pk).values_list("pk", "birth_date").first()
    return JsonResponse(
        {"id": str(row[0]), "birth_date": row[1].isoformat()} if row else {}, status=200 if row else 404
    )


urlpatterns = [path("bench/pk/<uuid:pk>", bare_pk), path("", include("config.urls"))]

if __name__ != "__main__":
    # Imported by gunicorn (``--chdir bench api:application``): serve this URL conf, production-like.
    from django.core.wsgi import get_wsgi_application

    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    application = get_wsgi_application()


def main() -> None:
    import argparse
    import json
    import random
    import socket
    import statistics
    import subprocess
    import threading
    import time
    from datetime import date
    from http.client import HTTPConnection

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bulk import choice_templates, make_project, populate

    from consent.api_clients import issue_token, register_client
    from consent.models import DecisionAudit
    from phr import services as party_services
    from phr.models.parties import OrganisationKind

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each round of each endpoint")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--audit-writer",
        choices=["background", "inline"],
        default="background",
        help="how single-decision audit rows are written (MAMORI_DECISION_AUDIT_WRITER)",
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--persons", type=int, default=10_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/api.py needs PostgreSQL: set DATABASE_URL=postgresql://...")
    settings.DEBUG = False
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "test_mamori_bench_api"
    settings.MAMORI_API_TOKEN_SECONDS = 3600
    config = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        call_command("createcachetable", verbosity=0)
        system = "urn:mamori:bench:hospital"
        hospital = party_services.create_organisation(
            name="ベンチ病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system=system
        )
        project = make_project(hospital)
        numbers = populate(args.persons, choice_templates(project))
        person_ids = [str(pk) for pk in Person.objects.values_list("pk", flat=True)[: args.persons]]
        client, _ = register_client(
            organisation=hospital, actor=None, name="bench", allowed_scopes=["consent.check"], with_secret=True
        )
        token = issue_token(client=client, scopes=["consent.check"])
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{settings.DATABASES['default']['NAME']}",
            "MAMORI_API_RATE": "100000000/min",
            "DATABASE_CONN_MAX_AGE": "600",
            "MAMORI_DECISION_AUDIT_WRITER": args.audit_writer,
        }
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--chdir",
                str(Path(__file__).resolve().parent),
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "api:application",
            ],
            env=env,
        )

        def get(target: str, with_headers: dict[str, str]) -> None:
            connection_ = HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection_.request("GET", target, headers=with_headers)
                response = connection_.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{target.split('?')[0]} answered {response.status}")
            finally:
                connection_.close()

        for _ in range(100):
            try:
                get("/healthz", {})
                break
            except OSError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(5)
        decision_urls = [
            f"/api/v1/decisions?identifier={system}%7C{n}&project={project.pk}" for n in rng.sample(numbers, 2000)
        ]
        pk_urls = [f"/bench/pk/{pk}" for pk in rng.sample(person_ids, 2000)]

        def run(urls: list[str], with_headers: dict[str, str]) -> tuple[float, list[float]]:
            latencies: list[float] = []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds

            def worker(offset: int) -> None:
                mine: list[float] = []
                n = offset
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    get(urls[n % len(urls)], with_headers)
                    mine.append(time.perf_counter() - started)
                    n += args.clients
                with lock:
                    latencies.extend(mine)

            for url in urls[:50]:  # warm up: connections, caches
                get(url, with_headers)
            started = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return len(latencies) / (time.perf_counter() - started), latencies

        def p(values: list[float], q: int) -> float:
            return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 100 else max(values) * 1000

        # Rounds alternate the two endpoints (and which goes first), so that a load that comes and goes on
        # the machine falls on both alike; each figure is the median of its rounds.
        decision_rounds: list[float] = []
        bare_rounds: list[float] = []
        decision_lat: list[float] = []
        bare_lat: list[float] = []
        for round_ in range(args.rounds):
            order = [("decision", decision_urls, headers), ("bare", pk_urls, {})]
            for name, urls, with_headers in order if round_ % 2 == 0 else reversed(order):
                rps, latencies = run(urls, with_headers)
                (decision_rounds if name == "decision" else bare_rounds).append(rps)
                (decision_lat if name == "decision" else bare_lat).extend(latencies)
            print(
                f"round {round_ + 1}: decision {decision_rounds[-1]:.0f}/s, bare {bare_rounds[-1]:.0f}/s, "
                f"load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
        decision_rps = statistics.median(decision_rounds)
        bare_rps = statistics.median(bare_rounds)
        ratios = [d / b for d, b in zip(decision_rounds, bare_rounds, strict=True)]
        # Every check must have left its audit row once the server has stopped (a graceful stop flushes the
        # background writer): the figure is void otherwise.
        server.terminate()
        server.wait(30)
        server = None
        expected_rows = len(decision_lat) + 50 * args.rounds
        audit_rows = DecisionAudit.objects.count()
        if audit_rows != expected_rows:
            raise SystemExit(f"{audit_rows} audit rows for {expected_rows} decisions")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        teardown_databases(config, verbosity=0)
    figures = {
        "bench": "api",
        "database": "postgresql",
        "workers": 1,
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "audit_writer": args.audit_writer,
        "decision_rps": round(decision_rps),
        "decision_p50_ms": round(p(decision_lat, 50), 2),
        "decision_p99_ms": round(p(decision_lat, 99), 2),
        "baseline_rps": round(bare_rps),
        "baseline_p50_ms": round(p(bare_lat, 50), 2),
        "baseline_p99_ms": round(p(bare_lat, 99), 2),
        "ratio": round(statistics.median(ratios), 3),
        "audit_rows": audit_rows,
        "load_average": round(os.getloadavg()[0], 1),
        "date": date.today().isoformat(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
