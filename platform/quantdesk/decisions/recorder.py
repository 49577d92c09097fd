"""Persist decisions in the operational store and link each new one into the audit chain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quantdesk.domain.trading import Decision
from quantdesk.store import audit_log, decision_repository
from quantdesk.store.operational_store import OperationalStore

AUDIT_ACTION = "decision.recorded"


@dataclass(frozen=True, slots=True)
class RecordSummary:
    written: int
    already_stored: int


def record_decisions(
    store: OperationalStore, decisions: Iterable[Decision], actor: str = "decision-engine"
) -> RecordSummary:
    """Store each decision once, with its audit event in the same transaction.

    Decision ids are content hashes, so a rerun writes nothing new and audits nothing twice.
    """
    written = already = 0
    for decision in decisions:
        with store.write_transaction() as session:
            is_new = decision_repository.insert_decision_if_new(session, decision)
            if not is_new:
                already += 1
                continue
            written += 1
            audit_log.append_event(
                session,
                actor=actor,
                action=AUDIT_ACTION,
                subject=f"decision:{decision.decision_id}",
                payload={
                    "symbol": decision.symbol,
                    "as_of": decision.as_of.isoformat(),
                    "target_weight": decision.target_weight,
                    "reasons": list(decision.reasons),
                    "model_versions": dict(decision.model_versions),
                    "feature_hash": decision.feature_hash,
                },
            )
    return RecordSummary(written, already)
