"""The RL ensemble in the MLflow model registry: one model, champion/challenger aliases, a gate.

A newly trained ensemble is registered as ONE model version (members, blend weights, env
config, feature list: the bundle) and gets the ``challenger`` alias. :func:`promote` moves
``champion`` to it only when the promotion gate passes. Loading by alias goes through MLflow's
own pyfunc loader, so what is served is exactly what was registered.

Seam: the gate here (:func:`promotion_gate`) is this module's until ``models/registry.py``
(the hybrid models' registry) lands; then :func:`promote` should call that gate so both model
families are promoted by the same rule.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quantdesk.config import Settings
from quantdesk.domain.errors import NotFoundError
from quantdesk.rl.bundle import EnsembleBundle, save_bundle

CHAMPION, CHALLENGER = "champion", "challenger"
EXPERIMENT = "rl_ensemble"
PIP_REQUIREMENTS = (
    "stable-baselines3==2.9.2",
    "gymnasium==1.4.0",
    "torch==2.13.0",
    "mlflow==3.17.2",
    "numpy==2.4.6",
    "pandas==2.3.3",
)
# Tags of a model version the gate reads (written at registration).
SHARPE_TAG, BASELINE_TAG = "oos_sharpe", "baseline_sharpe"


@dataclass(frozen=True, slots=True)
class RegisteredEnsemble:
    name: str
    version: int
    run_id: str


@dataclass(frozen=True, slots=True)
class GateDecision:
    passed: bool
    reason: str


def _configure(settings: Settings) -> None:
    import mlflow

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.resolved_mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def _experiment_id(settings: Settings) -> str:
    import mlflow

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return str(found.experiment_id)
    location = (settings.mlflow_artifacts_dir / EXPERIMENT).resolve()
    location.mkdir(parents=True, exist_ok=True)
    return str(client.create_experiment(EXPERIMENT, artifact_location=location.as_uri()))


def register_ensemble(
    settings: Settings,
    bundle: EnsembleBundle,
    params: Mapping[str, str | int | float] | None = None,
) -> RegisteredEnsemble:
    """Log the bundle as one pyfunc model, register it and point ``challenger`` at it.

    ``bundle.metrics`` must carry ``ensemble_<mode>.sharpe_mean`` (out of sample) and may
    carry ``equal_weight.sharpe_mean`` / ``buy_and_hold.sharpe_mean`` for the gate.
    """
    import mlflow

    from quantdesk.rl import ensemble_pyfunc

    _configure(settings)
    name = settings.rl.model_name
    with mlflow.start_run(experiment_id=_experiment_id(settings)) as run:
        mlflow.log_params({**bundle.manifest()["env_config"], **(params or {})})
        mlflow.log_metrics(bundle.metrics)
        mlflow.log_dict({"features": list(bundle.feature_names)}, "features.json")
        with tempfile.TemporaryDirectory(prefix="quantdesk-rl-bundle-") as scratch:
            folder = save_bundle(bundle, Path(scratch) / "bundle")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=ensemble_pyfunc.__file__,
                artifacts={"bundle": str(folder)},
                pip_requirements=list(PIP_REQUIREMENTS),
                signature=_signature(bundle),
                registered_model_name=name,
            )
    version = int(info.registered_model_version)
    client = mlflow.MlflowClient()
    client.set_model_version_tag(name, str(version), SHARPE_TAG, str(_sharpe(bundle)))
    client.set_model_version_tag(name, str(version), BASELINE_TAG, str(_baseline(bundle)))
    client.set_registered_model_alias(name, CHALLENGER, str(version))
    return RegisteredEnsemble(name, version, run.info.run_id)


def _signature(bundle: EnsembleBundle) -> Any:
    import numpy as np
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    inputs = Schema([TensorSpec(np.dtype(np.float32), (-1, bundle.observation_size))])
    outputs = Schema([ColSpec("double", c) for c in ("cash", *bundle.symbols)])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _sharpe(bundle: EnsembleBundle) -> float:
    return float(bundle.metrics.get(f"ensemble_{bundle.mode}.sharpe_mean", float("nan")))


def _baseline(bundle: EnsembleBundle) -> float:
    values = [
        bundle.metrics[key]
        for key in ("equal_weight.sharpe_mean", "buy_and_hold.sharpe_mean")
        if key in bundle.metrics
    ]
    return max(values) if values else float("-inf")


def promotion_gate(
    challenger_sharpe: float, baseline_sharpe: float, champion_sharpe: float | None
) -> GateDecision:
    """Promote only an ensemble that beats the passive baselines and the current champion
    out of sample."""
    if math.isnan(challenger_sharpe):
        return GateDecision(False, "challenger has no out-of-sample Sharpe")
    if challenger_sharpe <= baseline_sharpe:
        return GateDecision(
            False,
            f"out-of-sample Sharpe {challenger_sharpe:.3f} does not beat the best passive "
            f"baseline {baseline_sharpe:.3f}",
        )
    if champion_sharpe is not None and challenger_sharpe <= champion_sharpe:
        return GateDecision(
            False,
            f"out-of-sample Sharpe {challenger_sharpe:.3f} does not beat the champion's "
            f"{champion_sharpe:.3f}",
        )
    return GateDecision(True, f"out-of-sample Sharpe {challenger_sharpe:.3f} passes the gate")


def promote(settings: Settings, force: bool = False) -> GateDecision:
    """Move ``champion`` to the ``challenger`` version if the gate passes (or ``force``)."""
    import mlflow

    _configure(settings)
    client = mlflow.MlflowClient()
    name = settings.rl.model_name
    challenger = _version(client, name, CHALLENGER)
    champion = _version_or_none(client, name, CHAMPION)
    decision = promotion_gate(
        float(challenger.tags.get(SHARPE_TAG, "nan")),
        float(challenger.tags.get(BASELINE_TAG, "-inf")),
        float(champion.tags.get(SHARPE_TAG, "nan")) if champion is not None else None,
    )
    if decision.passed or force:
        client.set_registered_model_alias(name, CHAMPION, str(challenger.version))
    return decision


def load_ensemble(settings: Settings, alias: str = CHAMPION) -> EnsembleBundle:
    """The ensemble registered under ``alias``, through MLflow's pyfunc loader."""
    import mlflow

    _configure(settings)
    name = settings.rl.model_name
    _version(mlflow.MlflowClient(), name, alias)
    model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    bundle: EnsembleBundle = model.unwrap_python_model().bundle
    return bundle


def _version(client: Any, name: str, alias: str) -> Any:
    found = _version_or_none(client, name, alias)
    if found is None:
        raise NotFoundError(f"no version of model {name!r} has the alias {alias!r}")
    return found


def _version_or_none(client: Any, name: str, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
