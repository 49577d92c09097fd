"""The audit hash chain: links verify, any tampering is found, concurrent appends serialise."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest
from sqlalchemy import text

from quantdesk.domain.errors import InvalidInputError
from quantdesk.store import OperationalStore
from quantdesk.store.audit_hashing import GENESIS_HASH, audit_event_hash


def _append_three(store: OperationalStore) -> None:
    store.append_audit_event("alice", "order.submit", "order:ord-1", {"qty": 10, "px": 1.5})
    store.append_audit_event("risk", "order.approve", "order:ord-1", {"checks": ["notional"]})
    store.append_audit_event("bob", "killswitch.on", "desk", {"reason": "drill"})


def test_append_audit_event_links_each_event_to_the_previous(store: OperationalStore) -> None:
    # Act
    first = store.append_audit_event("alice", "login", "session", {"ip": "10.0.0.1"})
    second = store.append_audit_event("alice", "logout", "session", {})

    # Assert
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.occurred_at.tzinfo is UTC
    assert first.hash == audit_event_hash(
        prev_hash=GENESIS_HASH,
        sequence=1,
        occurred_at=first.occurred_at,
        actor="alice",
        action="login",
        subject="session",
        payload={"ip": "10.0.0.1"},
    )


def test_verify_audit_chain_untouched_chain_is_ok(store: OperationalStore) -> None:
    _append_three(store)

    report = store.verify_audit_chain()

    assert report.ok and bool(report)
    assert report.events_checked == 3
    assert report.first_bad_sequence is None


def test_verify_audit_chain_empty_chain_is_ok(store: OperationalStore) -> None:
    assert store.verify_audit_chain().ok


def test_verify_audit_chain_tampered_payload_is_detected(store: OperationalStore) -> None:
    # Arrange: rewrite one payload behind the store's back, as an attacker with SQL would.
    _append_three(store)
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_events SET payload = :payload WHERE sequence = 2"),
            {"payload": json.dumps({"checks": []})},
        )

    # Act
    report = store.verify_audit_chain()

    # Assert
    assert not report
    assert report.first_bad_sequence == 2
    assert report.events_checked == 1
    assert "changed" in report.problem


def test_verify_audit_chain_rehashed_event_breaks_next_link(store: OperationalStore) -> None:
    # Arrange: the attacker also recomputes event 2's own hash, but cannot fix event 3.
    _append_three(store)
    event = store.list_audit_events()[1]
    forged = audit_event_hash(
        prev_hash=event.prev_hash,
        sequence=2,
        occurred_at=event.occurred_at,
        actor="mallory",
        action=event.action,
        subject=event.subject,
        payload=event.payload,
    )
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE sequence = 2"),
            {"h": forged},
        )

    # Act
    report = store.verify_audit_chain()

    # Assert
    assert report.first_bad_sequence == 3
    assert "link" in report.problem


def test_verify_audit_chain_deleted_event_is_detected(store: OperationalStore) -> None:
    _append_three(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE sequence = 2"))

    report = store.verify_audit_chain()

    assert report.first_bad_sequence == 3
    assert "missing" in report.problem


def test_append_audit_event_concurrent_writers_keep_one_unbroken_chain(
    store: OperationalStore,
) -> None:
    # Arrange: 4 threads x 10 appends racing for the tail of the chain.
    def append_ten(worker: int) -> None:
        for i in range(10):
            store.append_audit_event(f"worker-{worker}", "tick", "race", {"i": i})

    # Act
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append_ten, range(4)))

    # Assert
    events = store.list_audit_events()
    assert [e.sequence for e in events] == list(range(1, 41))
    assert store.verify_audit_chain().events_checked == 40


def test_append_audit_event_payload_round_trips_as_json(store: OperationalStore) -> None:
    payload = {"b": [1, 2.5, None, True], "a": {"nested": "ü"}, "tuple": (1, 2)}

    store.append_audit_event("alice", "edit", "doc", payload)

    stored = store.list_audit_events("doc")[0].payload
    assert stored == {"a": {"nested": "ü"}, "b": [1, 2.5, None, True], "tuple": [1, 2]}
    assert store.verify_audit_chain().ok


@pytest.mark.parametrize("payload", [{"x": float("nan")}, {"x": object()}])
def test_append_audit_event_non_json_payload_is_rejected(
    store: OperationalStore, payload: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError, match="JSON"):
        store.append_audit_event("alice", "edit", "doc", payload)

    assert store.list_audit_events() == []


def test_append_audit_event_blank_actor_is_rejected(store: OperationalStore) -> None:
    with pytest.raises(InvalidInputError, match="actor"):
        store.append_audit_event(" ", "edit", "doc", {})
