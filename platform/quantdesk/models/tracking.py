"""MLflow tracking at the edge: runs with params, per-epoch and per-fold metrics, the model.

Embedded default: a SQLite backend and artifacts under ``<home>/mlflow``; production points
``QUANTDESK_MLFLOW_TRACKING_URI`` at a server. Telemetry is off and pip requirements are
given, never inferred (inference costs seconds per save).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import mlflow
import numpy as np
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema, TensorSpec

from quantdesk.config import Settings
from quantdesk.features.datasets import WindowedDataset
from quantdesk.features.splits import WalkForwardSpec
from quantdesk.models.bundle import save_bundle
from quantdesk.models.evaluation import EvaluationReport
from quantdesk.models.training import EpochRecord, FittedHybrid, TrainingConfig, WalkForwardResult

MODEL_ARTIFACT = "model"
PIP_REQUIREMENTS = ("torch==2.13.0", "mlflow==3.17.2", "numpy==2.4.6", "pandas==2.3.3")


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow (tracking and registry) at the configured store; returns its URI."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.resolved_mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(settings: Settings, name: str) -> str:
    """The experiment's id, creating it with artifacts under the home folder if needed."""
    configure_mlflow(settings)
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = (settings.mlflow_artifacts_dir / name).resolve().as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def hybrid_signature(window: int, n_features: int) -> ModelSignature:
    inputs = Schema([TensorSpec(np.dtype(np.float32), (-1, window, n_features))])
    outputs = Schema([ColSpec("double", c) for c in ("p_down", "p_flat", "p_up", "forecast")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def flat_params(prefix: str, values: Mapping[str, Any]) -> dict[str, str]:
    """MLflow params are strings; lists become JSON, nested keys get ``prefix.``."""
    out: dict[str, str] = {}
    for key, value in values.items():
        text = json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)
        out[f"{prefix}.{key}"] = text[:6000]
    return out


class TrainingRun:
    """One MLflow run around a walk-forward training (a context manager)."""

    def __init__(
        self,
        settings: Settings,
        experiment: str,
        run_name: str,
        tags: Mapping[str, str] | None = None,
        *,
        nested: bool = False,
    ) -> None:
        self.settings = settings
        self.experiment_id = ensure_experiment(settings, experiment)
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.nested = nested
        self.run_id = ""

    def __enter__(self) -> Self:
        run = mlflow.start_run(
            experiment_id=self.experiment_id, run_name=self.run_name, tags=self.tags,
            nested=self.nested,
        )  # fmt: skip
        self.run_id = run.info.run_id
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        mlflow.end_run(status="FAILED" if exc_type else "FINISHED")

    def log_params(self, params: Mapping[str, str]) -> None:
        mlflow.log_params(dict(params))

    def on_epoch(self, record: EpochRecord) -> None:
        """Per-epoch losses and throughput, one series per fold (step = epoch)."""
        prefix = f"fold{record.fold}"
        mlflow.log_metrics(
            {
                f"{prefix}.train_loss": record.train_loss,
                f"{prefix}.validation_loss": record.validation_loss,
                f"{prefix}.samples_per_second": record.samples_per_second,
            },
            step=record.epoch,
        )

    def log_report(self, prefix: str, report: EvaluationReport, step: int | None = None) -> None:
        mlflow.log_metrics({f"{prefix}.{k}": v for k, v in report.to_dict().items()}, step=step)

    def log_training(
        self,
        result: WalkForwardResult,
        dataset: WindowedDataset,
        spec: WalkForwardSpec,
        config: TrainingConfig,
    ) -> str:
        """Params, per-fold and pooled metrics, hashes, scaler, features and the model.

        Returns the logged model's URI (``runs:/<run>/model``).
        """
        model = result.model
        params = {
            **flat_params("arch", model.architecture.to_dict()),
            **flat_params("train", asdict(config)),
            **flat_params("split", asdict(spec)),
            "data.window": str(dataset.config.window),
            "data.n_features": str(len(dataset.feature_names)),
            "data.n_samples": str(len(dataset)),
            "data.hash": dataset.data_hash,
            "data.config_hash": dataset.config_hash,
        }
        self.log_params(params)
        mlflow.set_tags({"data_hash": dataset.data_hash, "config_hash": dataset.config_hash})
        for outcome in result.folds:
            self.log_report("fold", outcome.report, step=outcome.fold.index)
            mlflow.log_metrics(
                {
                    "fold.best_epoch": outcome.best_epoch,
                    "fold.validation_ic": outcome.validation_ic,
                    "fold.temperature": outcome.temperature,
                },
                step=outcome.fold.index,
            )
        self.log_report("oos", result.report)
        mlflow.log_metric("validation_score", result.validation_score)
        if result.extras:
            mlflow.log_metrics(dict(result.extras))
        mlflow.log_dict(model.scaler.to_dict(), "scaler.json")
        mlflow.log_dict({"features": list(model.features)}, "features.json")
        return self.log_model(model, dataset.data_hash, dataset.config_hash)

    def log_model(self, model: FittedHybrid, data_hash: str, config_hash: str) -> str:
        from quantdesk.models import hybrid_pyfunc

        metadata = {"data_hash": data_hash, "config_hash": config_hash, "run_id": self.run_id}
        # MLflow warns that an ``Any`` type hint gives no schema: the signature below does.
        with (
            tempfile.TemporaryDirectory(prefix="quantdesk-bundle-") as folder,
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore", UserWarning)
            bundle = save_bundle(model, Path(folder) / "bundle", metadata)
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=hybrid_pyfunc.__file__,
                artifacts={"bundle": str(bundle)},
                signature=hybrid_signature(model.window, len(model.features)),
                pip_requirements=list(PIP_REQUIREMENTS),
                metadata=metadata,
            )
        return (
            f"runs:/{self.run_id}/{MODEL_ARTIFACT}" if not info.model_uri else str(info.model_uri)
        )
