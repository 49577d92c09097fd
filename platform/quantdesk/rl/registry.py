"""The RL ensemble in the model registry: ONE model, champion/challenger, the shared gate.

The ensemble (members, blend weights, env config, feature list: the bundle) is logged as one
MLflow pyfunc model and registered through :class:`quantdesk.models.registry.ModelRegistry`,
the registry of the hybrid models, so both families share aliases, audit records and the
promotion gate (:mod:`quantdesk.models.promotion_gate`). The RL score is the ensemble's
out-of-sample Sharpe per walk-forward trade window; there is no calibration score, so the
gate runs without the ECE limit. Loading by alias goes through MLflow's pyfunc loader, so what
is served is exactly what was registered.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.config import Settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.rl.bundle import EnsembleBundle, save_bundle

if TYPE_CHECKING:
    from quantdesk.models.promotion_gate import CandidateScores, GateDecision
    from quantdesk.models.registry import AuditSink

CHAMPION, CHALLENGER = "champion", "challenger"
METRIC = "sharpe"
EXPERIMENT = "rl_ensemble"
PIP_REQUIREMENTS = (
    "stable-baselines3==2.9.2",
    "gymnasium==1.4.0",
    "torch==2.13.0",
    "mlflow==3.17.2",
    "numpy==2.4.6",
    "pandas==2.3.3",
)


@dataclass(frozen=True, slots=True)
class RegisteredEnsemble:
    name: str
    version: int
    run_id: str


def _experiment_id(settings: Settings) -> str:
    import mlflow

    from quantdesk.models.tracking import configure_mlflow

    configure_mlflow(settings)
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
    scores: CandidateScores,
    params: Mapping[str, str | int | float] | None = None,
    audit: AuditSink | None = None,
) -> RegisteredEnsemble:
    """Log the bundle as one pyfunc model and register it as the ``challenger``.

    ``scores`` are the ensemble's per-fold out-of-sample Sharpes (metric ``sharpe``) on the
    folds named by ``scores.folds_key``.
    """
    import mlflow

    from quantdesk.models.registry import ModelRegistry
    from quantdesk.rl import ensemble_pyfunc

    if scores.metric != METRIC:
        raise InvalidInputError(f"RL ensembles are scored on {METRIC!r}, not {scores.metric!r}")
    experiment = _experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment) as run:
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
            )
    model_uri = str(info.model_uri or f"runs:/{run.info.run_id}/model")
    registry = ModelRegistry(settings, audit, actor="train_rl")
    tags = {"run_id": run.info.run_id, "quantdesk.family": "rl_ensemble"}
    version = registry.register(settings.rl.model_name, model_uri, scores, tags)
    return RegisteredEnsemble(settings.rl.model_name, version, run.info.run_id)


def _signature(bundle: EnsembleBundle) -> Any:
    import numpy as np
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    inputs = Schema([TensorSpec(np.dtype(np.float32), (-1, bundle.observation_size))])
    outputs = Schema([ColSpec("double", c) for c in ("cash", *bundle.symbols)])
    return ModelSignature(inputs=inputs, outputs=outputs)


def promote(settings: Settings, audit: AuditSink | None = None) -> GateDecision:
    """Run the shared promotion gate for the challenger (Sharpe, margin from settings)."""
    from quantdesk.models.promotion_gate import GateCriteria
    from quantdesk.models.registry import ModelRegistry

    criteria = GateCriteria(METRIC, settings.rl.promotion_margin, max_ece=None)
    return ModelRegistry(settings, audit, actor="train_rl").promote(
        settings.rl.model_name, criteria
    )


def load_ensemble(settings: Settings, alias: str = CHAMPION) -> EnsembleBundle:
    """The ensemble registered under ``alias``, through MLflow's pyfunc loader."""
    import mlflow

    from quantdesk.models.registry import ModelRegistry

    name = settings.rl.model_name
    ModelRegistry(settings).by_alias(name, alias)  # NotFoundError naming the alias
    wrapped = mlflow.pyfunc.load_model(f"models:/{name}@{alias}").unwrap_python_model()
    # A model from code is loaded from its file, not imported: check what it carries.
    bundle = getattr(wrapped, "bundle", None)
    if not isinstance(bundle, EnsembleBundle):
        raise InvalidInputError(f"{name}@{alias} is not an RL ensemble")
    return bundle
