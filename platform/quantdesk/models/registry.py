"""The model registry (MLflow) with ``champion`` / ``challenger`` aliases and an audited gate.

A newly trained model is registered as ``challenger`` together with its out-of-sample fold
scores and calibration (version tags). :meth:`ModelRegistry.promote` runs the
:mod:`~quantdesk.models.promotion_gate` and, when it passes, moves ``champion``; every
promotion, refusal and rollback is appended to the audit log with its reasons. The previous
champions are kept as a history (a registered-model tag), so :meth:`ModelRegistry.rollback`
restores the one before. Nothing here is specific to the hybrid except :func:`load_hybrid`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from quantdesk.config import Settings
from quantdesk.domain.errors import InvalidInputError, NotFoundError
from quantdesk.models.promotion_gate import (
    CandidateScores,
    GateCriteria,
    GateDecision,
    decide_promotion,
)
from quantdesk.models.tracking import configure_mlflow
from quantdesk.models.training import FittedHybrid

CHAMPION = "champion"
CHALLENGER = "challenger"
_TAG = "quantdesk."
_HISTORY = _TAG + "champion_history"


class AuditSink(Protocol):
    """Where decisions are recorded (``quantdesk.store.OperationalStore`` is one)."""

    def append_audit_event(
        self,
        actor: str,
        action: str,
        subject: str,
        payload: Mapping[str, Any] | None = None,
        *,
        occurred_at: datetime | None = None,
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str
    created_at: datetime
    scores: CandidateScores | None
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True, eq=False)
class LoadedHybrid:
    """A registered hybrid exactly as logged: network, scaler, features, metadata."""

    name: str
    version: int
    model: FittedHybrid
    metadata: Mapping[str, Any]


def scores_to_tags(scores: CandidateScores) -> dict[str, str]:
    return {
        _TAG + "metric": scores.metric,
        _TAG + "fold_scores": json.dumps(list(scores.fold_scores)),
        _TAG + "folds_key": scores.folds_key,
        _TAG + "ece": "" if scores.ece is None else repr(scores.ece),
    }


def scores_from_tags(tags: Mapping[str, str]) -> CandidateScores | None:
    if _TAG + "fold_scores" not in tags:
        return None
    ece = tags.get(_TAG + "ece", "")
    return CandidateScores(
        metric=tags[_TAG + "metric"],
        fold_scores=tuple(json.loads(tags[_TAG + "fold_scores"])),
        folds_key=tags[_TAG + "folds_key"],
        ece=float(ece) if ece else None,
    )


class ModelRegistry:
    """Registered models, their aliases and the audited promotion gate."""

    def __init__(
        self, settings: Settings, audit: AuditSink | None = None, actor: str = "quantdesk"
    ) -> None:
        configure_mlflow(settings)
        self.settings = settings
        self.client = MlflowClient()
        self.audit = audit
        self.actor = actor

    # -- reading ---------------------------------------------------------------------------

    def versions(self, name: str) -> list[ModelVersionInfo]:
        """Every version of ``name``, newest first (empty when the model is unknown)."""
        try:
            found = self.client.search_model_versions(f"name = '{name}'")
        except MlflowException:
            return []
        infos = [self._info(self.client.get_model_version(name, v.version)) for v in found]
        return sorted(infos, key=lambda i: i.version, reverse=True)

    def version(self, name: str, version: int) -> ModelVersionInfo:
        try:
            return self._info(self.client.get_model_version(name, str(version)))
        except MlflowException as exc:
            raise NotFoundError(f"model {name!r} has no version {version}") from exc

    def by_alias(self, name: str, alias: str) -> ModelVersionInfo:
        try:
            return self._info(self.client.get_model_version_by_alias(name, alias))
        except MlflowException as exc:
            raise NotFoundError(f"model {name!r} has no {alias!r} version") from exc

    def champion_history(self, name: str) -> list[int]:
        try:
            tags = self.client.get_registered_model(name).tags
        except MlflowException:
            return []
        return [int(v) for v in json.loads(tags.get(_HISTORY, "[]"))]

    # -- writing ---------------------------------------------------------------------------

    def register(
        self,
        name: str,
        model_uri: str,
        scores: CandidateScores,
        tags: Mapping[str, str] | None = None,
    ) -> int:
        """Register ``model_uri`` as a new version of ``name`` and make it the challenger."""
        import mlflow

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name)
        created = mlflow.register_model(
            model_uri, name, tags={**scores_to_tags(scores), **(tags or {})}
        )
        version = int(created.version)
        self.client.set_registered_model_alias(name, CHALLENGER, str(version))
        self._record("model.registered", name, {"version": version, "model_uri": model_uri,
                                                "scores": list(scores.fold_scores)})  # fmt: skip
        return version

    def promote(
        self,
        name: str,
        criteria: GateCriteria,
        version: int | None = None,
        champion_scores: CandidateScores | None = None,
    ) -> GateDecision:
        """Run the gate for ``version`` (default: the challenger) against the champion.

        ``champion_scores`` replaces the champion's stored scores when the caller re-scored
        the champion on the challenger's folds (the stored ones were made on older data).
        """
        candidate = (
            self.by_alias(name, CHALLENGER) if version is None else self.version(name, version)
        )
        if candidate.scores is None:
            raise InvalidInputError(f"{name} v{candidate.version} has no out-of-sample scores")
        champion = self._champion_or_none(name)
        if champion is not None and champion.version == candidate.version:
            raise InvalidInputError(f"{name} v{candidate.version} is already the champion")
        stored = champion.scores if champion is not None else None
        decision = decide_promotion(candidate.scores, champion_scores or stored, criteria)
        payload = {
            "version": candidate.version,
            "champion_version": champion.version if champion is not None else None,
            "metric": criteria.metric,
            "margin": criteria.margin,
            "max_ece": criteria.max_ece,
            "champion_rescored": champion_scores is not None,
            **decision.as_payload(),
        }
        if decision.promote:
            self.client.set_registered_model_alias(name, CHAMPION, str(candidate.version))
            if CHALLENGER in candidate.aliases:
                self.client.delete_registered_model_alias(name, CHALLENGER)
            history = [*self.champion_history(name), candidate.version]
            self.client.set_registered_model_tag(name, _HISTORY, json.dumps(history))
            self._record("model.promoted", name, payload)
        else:
            self._record("model.promotion_refused", name, payload)
        return decision

    def rollback(self, name: str, reason: str = "") -> int:
        """Make the previous champion the champion again; returns its version."""
        history = self.champion_history(name)
        if len(history) < 2:
            raise NotFoundError(f"model {name!r} has no previous champion to restore")
        retired, restored = history[-1], history[-2]
        self.client.set_registered_model_alias(name, CHAMPION, str(restored))
        self.client.set_model_version_tag(name, str(retired), _TAG + "rolled_back", "true")
        self.client.set_registered_model_tag(name, _HISTORY, json.dumps(history[:-1]))
        payload = {"retired_version": retired, "restored_version": restored, "reason": reason}
        self._record("model.rolled_back", name, payload)
        return restored

    # -- internals -------------------------------------------------------------------------

    def _champion_or_none(self, name: str) -> ModelVersionInfo | None:
        try:
            return self.by_alias(name, CHAMPION)
        except NotFoundError:
            return None

    def _info(self, mv: Any) -> ModelVersionInfo:
        tags = dict(mv.tags or {})
        return ModelVersionInfo(
            name=str(mv.name),
            version=int(mv.version),
            aliases=tuple(getattr(mv, "aliases", []) or []),
            run_id=str(mv.run_id or ""),
            created_at=datetime.fromtimestamp(int(mv.creation_timestamp) / 1000, tz=UTC),
            scores=scores_from_tags(tags),
            tags=tags,
        )

    def _record(self, action: str, name: str, payload: Mapping[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append_audit_event(self.actor, action, f"model:{name}", payload)


def load_hybrid(settings: Settings, name: str, alias: str = CHAMPION) -> LoadedHybrid:
    """The hybrid behind ``name@alias``: exactly the network, scaler and features logged."""
    import mlflow.pyfunc

    registry = ModelRegistry(settings)
    info = registry.by_alias(name, alias)
    with warnings.catch_warnings():  # the wrapper's ``Any`` type hints: the signature rules
        warnings.simplefilter("ignore", UserWarning)
        loaded = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    # Logged from code, MLflow runs its own copy of the wrapper class: check what it holds.
    wrapped = loaded.unwrap_python_model()
    model = getattr(wrapped, "model", None)
    if not isinstance(model, FittedHybrid):
        raise InvalidInputError(f"{name}@{alias} is not a hybrid model")
    return LoadedHybrid(name, info.version, model, dict(getattr(wrapped, "metadata", {})))
