"""Two writes based on the same version of a person's choices, at the same time: one wins, the other
gets a conflict; nothing is silently overwritten (real concurrent transactions on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from consent import services
from consent.errors import ConsentConflict
from consent.models import ConsentEvent, ConsentState
from tests.conftest import requires_postgres


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_on_the_same_version_give_one_success_and_one_conflict(alice) -> None:
    services.set_global_opt_out(person=alice, actor=alice.user, opted_out=False)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(value: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.set_category_choice(
                person=alice,
                actor=alice.user,
                category="genomics",
                purpose_class="academic_research",
                value=value,
                expected_version=1,
            )
            outcomes.append("ok")
        except ConsentConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(value,)) for value in ("permit", "deny")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert ConsentState.objects.get(person=alice).version == 2
    assert ConsentEvent.objects.filter(person=alice).count() == 2
