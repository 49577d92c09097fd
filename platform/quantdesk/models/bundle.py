"""A trained hybrid on disk: weights plus one JSON with architecture, scaler and feature list.

The same two files travel inside the MLflow model, so loading by alias yields exactly the
network, scaler and features that were registered.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch

from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain.errors import NotFoundError
from quantdesk.features.datasets import FeatureScaler
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.hybrid import HybridNet
from quantdesk.models.training import FittedHybrid

WEIGHTS_FILE = "weights.pt"
SPEC_FILE = "model.json"
BUNDLE_FORMAT = 1


def bundle_spec(model: FittedHybrid, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything but the weights, as plain JSON."""
    return {
        "format": BUNDLE_FORMAT,
        "architecture": model.architecture.to_dict(),
        "scaler": model.scaler.to_dict(),
        "features": list(model.features),
        "window": model.window,
        "target_scale": model.target_scale,
        "temperature": model.temperature,
        "metadata": metadata or {},
    }


def save_bundle(
    model: FittedHybrid, directory: Path, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``weights.pt`` and ``model.json`` into ``directory`` (atomically each)."""
    buffer = io.BytesIO()
    torch.save(model.network.state_dict(), buffer)
    weights = buffer.getvalue()
    spec = json.dumps(bundle_spec(model, metadata), indent=2, sort_keys=True).encode()
    write_file_atomic(directory / WEIGHTS_FILE, lambda handle: handle.write(weights))
    write_file_atomic(directory / SPEC_FILE, lambda handle: handle.write(spec))
    return directory


def load_bundle(directory: Path) -> tuple[FittedHybrid, dict[str, Any]]:
    """The model saved by :func:`save_bundle` and its metadata."""
    spec_path, weights_path = directory / SPEC_FILE, directory / WEIGHTS_FILE
    if not spec_path.exists() or not weights_path.exists():
        raise NotFoundError(f"no model bundle in {directory}")
    spec = json.loads(spec_path.read_text())
    network = HybridNet(HybridArchitecture.from_dict(spec["architecture"]))
    network.load_state_dict(torch.load(weights_path, weights_only=True))
    network.eval()
    model = FittedHybrid(
        network=network,
        scaler=FeatureScaler.from_dict(spec["scaler"]),
        target_scale=float(spec["target_scale"]),
        temperature=float(spec["temperature"]),
        window=int(spec["window"]),
    )
    return model, dict(spec["metadata"])
