"""A trained ensemble as one folder: member agents, blend weights, env config, features.

``manifest.json`` holds everything but the networks; ``members/<agent>.zip`` are the
stable-baselines3 saves. The registry ships this folder as one MLflow model, so what is loaded
by alias is exactly what was registered.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain.errors import InvalidInputError
from quantdesk.rl.agents import load_agent
from quantdesk.rl.env import EnvConfig, weights_from_action

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

FloatArray = npt.NDArray[np.float64]
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class EnsembleBundle:
    """What the decision engine needs to turn observations into target weights.

    ``mode`` ``blend`` averages the members' mixes with ``blend_weights``; ``best`` uses the
    ``selected`` member alone. Weights are over (cash, ``symbols`` ...).
    """

    members: dict[str, BaseAlgorithm] = field(repr=False)
    blend_weights: dict[str, float]
    selected: str
    env_config: EnvConfig
    symbols: tuple[str, ...]
    feature_names: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    mode: Literal["blend", "best"] = "blend"

    def __post_init__(self) -> None:
        if self.selected not in self.members:
            raise InvalidInputError(f"selected agent {self.selected!r} is not a member")
        unknown = set(self.blend_weights) - set(self.members)
        if unknown:
            raise InvalidInputError(f"blend weights name non-members: {', '.join(sorted(unknown))}")
        if self.mode not in ("blend", "best"):
            raise InvalidInputError(f"ensemble mode must be blend or best, got {self.mode!r}")

    @property
    def observation_size(self) -> int:
        n, f = len(self.symbols), len(self.feature_names)
        return self.env_config.window * n * f + n + 1

    def target_weights(self, observations: npt.ArrayLike) -> FloatArray:
        """Target mixes, shape (n, 1 + symbols), for observations of shape (n, obs) or (obs,)."""
        obs = np.atleast_2d(np.asarray(observations, dtype=np.float32))
        if obs.shape[1] != self.observation_size:
            raise InvalidInputError(
                f"observations must have {self.observation_size} columns, got {obs.shape[1]}"
            )
        weights = {self.selected: 1.0} if self.mode == "best" else self.blend_weights
        out = np.zeros((len(obs), len(self.symbols) + 1))
        for name, w in weights.items():
            if w <= 0:
                continue
            actions, _ = self.members[name].predict(obs, deterministic=True)
            out += w * np.stack([weights_from_action(a, self.env_config) for a in actions])
        return out

    def manifest(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "members": sorted(self.members),
            "blend_weights": self.blend_weights,
            "selected": self.selected,
            "mode": self.mode,
            "env_config": asdict(self.env_config),
            "symbols": list(self.symbols),
            "feature_names": list(self.feature_names),
            "metrics": self.metrics,
        }


def save_bundle(bundle: EnsembleBundle, folder: Path) -> Path:
    """Write the bundle into ``folder`` (created); reruns overwrite it file by file, atomically."""
    members = folder / "members"
    members.mkdir(parents=True, exist_ok=True)
    for name, agent in bundle.members.items():
        scratch = members / f".{name}.tmp.zip"
        agent.save(str(scratch))
        scratch.replace(members / f"{name}.zip")
    text = json.dumps(bundle.manifest(), indent=2, sort_keys=True)
    write_file_atomic(folder / MANIFEST, lambda handle: handle.write(text.encode()))
    return folder


def load_bundle(folder: Path) -> EnsembleBundle:
    """The bundle saved in ``folder``; raises naming what is missing."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InvalidInputError(f"no RL ensemble manifest at {path}")
    manifest = json.loads(path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InvalidInputError(f"unsupported RL ensemble format {manifest.get('format_version')}")
    members = {
        name: load_agent(name, folder / "members" / f"{name}.zip") for name in manifest["members"]
    }
    return EnsembleBundle(
        members=members,
        blend_weights={k: float(v) for k, v in manifest["blend_weights"].items()},
        selected=manifest["selected"],
        env_config=EnvConfig(**manifest["env_config"]),
        symbols=tuple(manifest["symbols"]),
        feature_names=tuple(manifest["feature_names"]),
        metrics={k: float(v) for k, v in manifest["metrics"].items()},
        mode=manifest["mode"],
    )
