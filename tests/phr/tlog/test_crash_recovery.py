"""An entry written just before the integrator crashes is integrated on restart, with no gap and no duplicate."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from phr import services
from phr.models import LogCheckpoint, LogEntry, LogHash, LogName, LogState
from phr.tlog import integrate as integrate_module
from phr.tlog import merkle
from phr.tlog.integrate import integrate
from phr.tlog.verify import verify_log
from tests.conftest import requires_postgres
from tests.phr.tlog.store_helpers import checkpoint_dir

__all__ = ["checkpoint_dir"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")

ROOT = Path(__file__).resolve().parents[3]
AUDIT = LogName.AUDIT


def _write(count: int, prefix: str) -> None:
    for i in range(count):
        services.record_audit(actor=None, person=None, action=f"{prefix}.{i}")


def _indexes() -> list[int | None]:
    return list(LogEntry.objects.filter(log=AUDIT).order_by("index").values_list("index", flat=True))


def test_an_error_mid_integration_leaves_nothing_half_done_and_the_next_run_integrates_it(
    db, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(3, "test.before")
    integrate(AUDIT)
    _write(2, "test.just_before_the_crash")

    def crash(*args: object) -> tuple[str, str]:
        raise RuntimeError("the integrator died after storing the new hashes, before signing")

    with monkeypatch.context() as patch:
        patch.setattr(integrate_module, "sign_checkpoint", crash)
        with pytest.raises(RuntimeError):
            integrate(AUDIT)

    assert LogEntry.objects.filter(log=AUDIT, index__isnull=True).count() == 2
    assert LogState.objects.get(log=AUDIT).size == 3
    assert LogCheckpoint.objects.filter(log=AUDIT).count() == 1
    assert LogHash.objects.filter(log=AUDIT).count() == merkle.stored_hash_count(3)

    assert integrate(AUDIT).added == 2
    assert _indexes() == [0, 1, 2, 3, 4]
    assert verify_log(AUDIT).intact


def test_a_checkpoint_committed_but_not_copied_out_is_copied_by_the_next_run(
    db, monkeypatch: pytest.MonkeyPatch, checkpoint_dir: Path
) -> None:
    _write(2, "test.event")
    with monkeypatch.context() as patch:
        patch.setattr(integrate_module, "publish_missing", lambda log, **kwargs: 0)
        integrate(AUDIT)
    assert not (checkpoint_dir / "audit" / "2").exists()

    integrate(AUDIT)

    assert (checkpoint_dir / "audit" / "2").read_text() == LogCheckpoint.objects.get(log=AUDIT, size=2).note
    assert verify_log(AUDIT).intact


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_an_integrator_process_killed_before_its_commit_loses_nothing(checkpoint_dir: Path) -> None:
    _write(3, "test.before")
    integrate(AUDIT)
    _write(2, "test.just_before_the_kill")
    database = django_settings.DATABASES["default"]
    user, host, port, name = database["USER"] or "postgres", database["HOST"], database["PORT"], database["NAME"]
    script = textwrap.dedent(
        """
        import os
        import django

        django.setup()
        from phr.tlog import integrate

        def die(*args):
            os._exit(9)  # the process is killed with the batch's hashes and indexes written, not committed

        integrate.sign_checkpoint = die
        integrate.integrate("audit")
        """
    )
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgresql://{user}@{host}:{port}/{name}",
        "MAMORI_LOG_SIGNING_KEYS": django_settings.MAMORI_LOG_SIGNING_KEYS,
        "MAMORI_LOG_CHECKPOINT_DIR": str(checkpoint_dir),
    }

    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, timeout=120, check=False)

    assert killed.returncode == 9
    assert LogEntry.objects.filter(log=AUDIT, index__isnull=True).count() == 2
    assert LogHash.objects.filter(log=AUDIT).count() == merkle.stored_hash_count(3)
    assert integrate(AUDIT).added == 2
    assert _indexes() == [0, 1, 2, 3, 4]
    assert verify_log(AUDIT).intact
