"""Bulk check of 1,000,000 identifiers against 1,000,000 persons, against a bare COPY-and-join.

Run: ``DATABASE_URL=postgresql://... DJANGO_DEBUG=true .venv/bin/python bench/bulk.py [--persons N] [--keep-db]``
(a throw-away test database is created and dropped; SQLite works with a smaller ``--persons``). Seeding
1,000,000 persons takes minutes: ``--keep-db`` keeps the seeded database for the next ``--keep-db`` run,
which then only empties the audit and the jobs of the previous one.

Workload: ``--persons`` persons each holding a patient number of one hospital; one in five has made a
choice (accepted or declined the project, or opted out of secondary use: the directives of real choices
made through ``consent.services``, each copy with its own directive id and time, so every person's stored
state differs, as in real data; the copies were identical until 2026-11-21, which let one decision serve
200,000 persons). The upload (CSV, one ``system,value`` a line, every person once
in random order) is stored through ``create_bulk_check``, then ``run_bulk_check`` does the whole job in
this process: parse, blind index, COPY into a temporary table and join to identifiers, consent states and
notices, decide, write ``results.ndjson`` and ``permitted``, audit one row per person, checkpoint.

Baseline (DESIGN §8), same run: read the same file, compute the blind indexes, COPY them into a temporary
table and join it to ``phr_identifier``, fetching (line, person) pairs — the least any set-based bulk check
does. Target: ≤ 10 s for 1,000,000 on PostgreSQL and ≤ 3 × the baseline; ``ratio`` is baseline / bulk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from consent import services as consent_services  # noqa: E402
from consent.bulk import jobs  # noqa: E402
from consent.models import ConsentState, ProcessingMode, Project, ProjectStatus, PurposeClass  # noqa: E402
from phr import services as party_services  # noqa: E402
from phr.crypto.blind_index import blind_index  # noqa: E402
from phr.models import Identifier, Organisation, Person, User  # noqa: E402
from phr.models.parties import OrganisationKind  # noqa: E402

SYSTEM = "urn:mamori:bench:hospital"
PURPOSE = {
    "type": "DS",
    "diseases": ["C34"],
    "commercial": False,
    "for_profit": False,
    "genetic": False,
    "ethics_approval": True,
    "publication": True,
    "returns_data": False,
    "regions": ["JP"],
}


def make_project(organisation: Organisation) -> Project:
    return Project.objects.create(
        organisation=organisation,
        title_ja="ベンチ研究",
        summary_ja="ベンチマーク",
        purpose_class=PurposeClass.ACADEMIC_RESEARCH,
        duo_purpose=PURPOSE,
        data_categories=["diagnoses", "lab_results"],
        ethics_approval=True,
        regions=["JP"],
        period_start=date(2026, 1, 1),
        period_end=date(2028, 12, 31),
        processing_mode=ProcessingMode.TRE,
        status=ProjectStatus.APPROVED,
    )


def choice_templates(project: Project) -> list[str]:
    """The directives (engine form, JSON) of three real choices: accepted, declined, opted out."""
    texts = []
    for n, act in enumerate(("accept", "decline", "opt_out")):
        user = User.objects.create_user(email=f"template{n}@example.test", password=None)
        person = party_services.create_person(
            user=user, family_name="型", given_name=str(n), birth_date=date(1970, 1, 1)
        )
        if act == "opt_out":
            consent_services.set_global_opt_out(person=person, actor=user, opted_out=True)
        else:
            consent_services.decide_project(person=person, actor=user, project=project, accept=act == "accept")
        texts.append(json.dumps(ConsentState.objects.get(person=person).directives))
    return texts


def own_choice(template: str, rng: random.Random) -> str:
    """A template choice as one person's own: every directive with its own id and time, as in real data."""
    directives = json.loads(template)
    for directive in directives:
        directive["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        directive["at"] = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**7))).isoformat()
    return json.dumps(directives)


def populate(count: int, templates: list[str]) -> list[str]:
    """``count`` persons with a patient number each (COPY on PostgreSQL); returns the numbers."""
    numbers = [f"B{n:08d}" for n in range(count)]
    ids = [uuid.uuid4() for _ in range(count)]
    rng = random.Random(8)
    if connection.vendor != "postgresql":
        Person.objects.bulk_create(
            [Person(id=i, family_name="試験", given_name="者", birth_date=date(1980, 1, 1)) for i in ids],
            batch_size=5000,
        )
        Identifier.objects.bulk_create(
            [
                Identifier(person_id=i, system=SYSTEM, blind_index=blind_index(SYSTEM, v), value_encrypted=b"")
                for i, v in zip(ids, numbers, strict=True)
            ],
            batch_size=5000,
        )
        ConsentState.objects.bulk_create(
            [
                ConsentState(person_id=i, version=1, directives=json.loads(own_choice(rng.choice(templates), rng)))
                for i in ids[::5]
            ],
            batch_size=5000,
        )
        return numbers
    with transaction.atomic(), connection.cursor() as cursor:
        # Seeding only: skip the consent-changes triggers, as a restore would.
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy(
            "COPY phr_person (id, family_name, given_name, family_name_kana, given_name_kana, preferred_language, "
            "birth_date, sex, prefecture, created_at) FROM STDIN"
        ) as copy:
            for i in ids:
                copy.write_row((i, "試験", "者", "", "", "ja", date(1980, 1, 1), "unknown", "", "2026-01-01T00:00:00Z"))
        with cursor.copy(
            "COPY phr_identifier (id, person_id, system, value_encrypted, blind_index, created_at) FROM STDIN"
        ) as copy:
            for i, value in zip(ids, numbers, strict=True):
                copy.write_row((uuid.uuid4(), i, SYSTEM, b"", blind_index(SYSTEM, value), "2026-01-01T00:00:00Z"))
        with cursor.copy("COPY consent_consentstate (person_id, version, directives, updated_at) FROM STDIN") as copy:
            for i in ids[::5]:
                copy.write_row((i, 1, own_choice(rng.choice(templates), rng), "2026-01-01T00:00:00Z"))
        cursor.execute("ANALYZE")
    return numbers


def seeded(count: int) -> tuple[Organisation | None, Project | None, list[str]]:
    """A kept database's hospital, project and numbers, emptied of the last run's jobs and audit rows."""
    project = Project.objects.filter(title_ja="ベンチ研究").select_related("organisation").first()
    if project is None or Identifier.objects.filter(system=SYSTEM).count() != count:
        assert project is None, "the kept database holds another workload: drop it"
        return None, None, []
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE consent_decisionaudit, consent_bulkdecision, consent_bulkdecisionrun, consent_bulkcheck"
        )
        cursor.execute("VACUUM ANALYZE")
    return project.organisation, project, [f"B{n:08d}" for n in range(count)]


def baseline(path: Path) -> float:
    """Read the file, blind-index each line, COPY into a temporary table, join to identifiers, fetch."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, path.open("rb") as source:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_keys (line integer, system text, blind_index varchar(64)) ON COMMIT DROP"
        )
        with cursor.copy("COPY bench_keys (line, system, blind_index) FROM STDIN") as copy:
            for line, raw in enumerate(source):
                system, value = raw.decode().rstrip("\n").split(",", 1)
                copy.write_row((line, system, blind_index(system, value)))
        cursor.execute(
            "SELECT k.line, i.person_id FROM bench_keys k "
            "JOIN phr_identifier i ON i.blind_index = k.blind_index AND i.system = k.system"
        )
        found = len(cursor.fetchall())
    elapsed = time.perf_counter() - started
    assert found > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--keep-db", action="store_true", help="keep the seeded database and reuse it next time")
    args = parser.parse_args()
    settings.DEBUG = False
    keep = args.keep_db and connection.vendor == "postgresql"
    name = f"test_mamori_bench_bulk_{args.persons}" if keep else "test_mamori_bench_bulk"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = None if connection.vendor == "sqlite" else name
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-bulk-"))
    settings.VAR_DIR = workdir
    jobs._enqueue = lambda job_id: None  # the run is timed in-process below
    # No serialised copy of the database (only TransactionTestCase rollbacks use one): a million rows.
    config = setup_databases(verbosity=0, interactive=False, keepdb=keep, serialized_aliases=set())
    try:
        started = time.perf_counter()
        hospital, project, numbers = seeded(args.persons) if keep else (None, None, [])
        if hospital is None or project is None:
            hospital = party_services.create_organisation(
                name="ベンチ病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system=SYSTEM
            )
            project = make_project(hospital)
            numbers = populate(args.persons, choice_templates(project))
        populate_s = time.perf_counter() - started
        random.Random(9).shuffle(numbers)
        upload = workdir / "upload.csv"
        upload.write_text("".join(f"{SYSTEM},{n}\n" for n in numbers))
        base_s = baseline(upload) if connection.vendor == "postgresql" else None
        started = time.perf_counter()
        with upload.open("rb") as stream:
            job = jobs.create_bulk_check(
                organisation=hospital, client_id="bench", project=project, fmt="csv", language="en", stream=stream
            )
        upload_s = time.perf_counter() - started
        started = time.perf_counter()
        done = jobs.run_bulk_check(str(job.pk))
        run_s = time.perf_counter() - started
        assert done is not None and done.status == "done" and done.processed == args.persons
        vendor = connection.vendor
        permitted = done.permitted
    finally:
        teardown_databases(config, verbosity=0, keepdb=keep)
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "bench": "bulk",
        "database": vendor,
        "persons": args.persons,
        "identifiers": args.persons,
        "permitted": permitted,
        "populate_s": round(populate_s, 1),
        "upload_s": round(upload_s, 2),
        "bulk_s": round(run_s, 2),
        "identifiers_per_s": round(args.persons / run_s),
        "baseline_s": round(base_s, 2) if base_s is not None else None,
        "ratio": round(base_s / run_s, 3) if base_s is not None else None,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
