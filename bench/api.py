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
import re
import statistics
import sys
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Round:
    """One endpoint's figures over one round of load."""

    rps: float
    count: int
    p50_ms: float
    p99_ms: float


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def wrk_ms(output: str, quantile: str) -> float:
    """A latency from wrk's --latency distribution (e.g. ``99%    3.21ms``), in milliseconds."""
    match = re.search(rf"^\s+{re.escape(quantile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"no {quantile} latency in wrk's output:\n{output}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


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
    import shutil
    import subprocess
    import tempfile
    import threading
    import time
    from datetime import date
    from http.client import HTTPConnection

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bulk import choice_templates, make_project, populate
    from served import start_worker

    from consent.api_clients import issue_token, register_client
    from consent.models import DecisionAudit
    from phr import services as party_services
    from phr.models.parties import OrganisationKind

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each round of each endpoint")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "threads"],
        default="auto",
        help="wrk (Debian package, C: takes little of the CPU the server needs) when installed, else threads",
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk") if args.load_generator != "threads" else None
    if args.load_generator == "wrk" and wrk is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    workdir = tempfile.mkdtemp(prefix="mamori-bench-api-")
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
        server, port = start_worker("api:application")

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

        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(5)
        decision_urls = [
            f"/api/v1/decisions?identifier={system}%7C{n}&project={project.pk}" for n in rng.sample(numbers, 2000)
        ]
        pk_urls = [f"/bench/pk/{pk}" for pk in rng.sample(person_ids, 2000)]

        def run_threads(urls: list[str], with_headers: dict[str, str]) -> Round:
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

            started = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            cuts = statistics.quantiles(latencies, n=100)
            return Round(len(latencies) / elapsed, len(latencies), cuts[49] * 1000, cuts[98] * 1000)

        def run_wrk(urls: list[str], with_headers: dict[str, str]) -> Round:
            script = Path(workdir) / "paths.lua"
            script.write_text(
                "local paths = {" + ",".join(json.dumps(u) for u in urls) + "}\n"
                "local headers = {"
                + ",".join(f"[{json.dumps(k)}]={json.dumps(v)}" for k, v in with_headers.items())
                + "}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
                "  return wrk.format('GET', paths[(i % #paths) + 1], headers)\nend\n"
            )
            command = [str(wrk), "-t1", f"-c{args.clients}", f"-d{max(1, round(args.seconds))}s", "--latency"]
            command += ["-s", str(script), f"http://127.0.0.1:{port}"]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            if "Non-2xx" in output or "Socket errors" in output:
                raise SystemExit(f"wrk saw failures:\n{output}")
            count = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
            return Round(rps, count, wrk_ms(output, "50%"), wrk_ms(output, "99%"))

        def run(urls: list[str], with_headers: dict[str, str]) -> Round:
            for url in urls[:50]:  # warm up: connections, caches
                get(url, with_headers)
            return run_wrk(urls, with_headers) if wrk else run_threads(urls, with_headers)

        # Rounds alternate the two endpoints (and which goes first), so that a load that comes and goes on
        # the machine falls on both alike; each figure is the median of its rounds.
        decision_rounds: list[Round] = []
        bare_rounds: list[Round] = []
        for round_ in range(args.rounds):
            order = [("decision", decision_urls, headers), ("bare", pk_urls, {})]
            for name, urls, with_headers in order if round_ % 2 == 0 else reversed(order):
                (decision_rounds if name == "decision" else bare_rounds).append(run(urls, with_headers))
            print(
                f"round {round_ + 1}: decision {decision_rounds[-1].rps:.0f}/s "
                f"(p99 {decision_rounds[-1].p99_ms:.1f} ms), bare {bare_rounds[-1].rps:.0f}/s "
                f"(p99 {bare_rounds[-1].p99_ms:.1f} ms), load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
        ratios = [d.rps / b.rps for d, b in zip(decision_rounds, bare_rounds, strict=True)]
        # Every check must have left its audit row: the figure is void otherwise.
        server.terminate()
        server.wait(30)
        server = None
        # wrk stops with up to one request per connection in flight: answered (and audited) but not counted.
        counted = sum(r.count for r in decision_rounds) + 50 * args.rounds
        audit_rows = DecisionAudit.objects.count()
        if not counted <= audit_rows <= counted + args.clients * args.rounds:
            raise SystemExit(f"{audit_rows} audit rows for {counted} decisions")
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
        "load_generator": "wrk" if wrk else "python threads",
        "decision_rps": round(median(r.rps for r in decision_rounds)),
        "decision_p50_ms": round(median(r.p50_ms for r in decision_rounds), 2),
        "decision_p99_ms": round(median(r.p99_ms for r in decision_rounds), 2),
        "decision_p99_worst_ms": round(max(r.p99_ms for r in decision_rounds), 2),
        "baseline_rps": round(median(r.rps for r in bare_rounds)),
        "baseline_p50_ms": round(median(r.p50_ms for r in bare_rounds), 2),
        "baseline_p99_ms": round(median(r.p99_ms for r in bare_rounds), 2),
        "ratio": round(statistics.median(ratios), 3),
        "audit_rows": audit_rows,
        "load_average": round(os.getloadavg()[0], 1),
        "date": date.today().isoformat(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
