"""The RL ensemble as an MLflow pyfunc model: input observations, output target weights.

Logged as *model from code* (this file, no pickled object); the ``bundle`` artifact holds the
members and the manifest (see :mod:`quantdesk.rl.bundle`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc.model import PythonModel

from quantdesk.rl.bundle import EnsembleBundle, load_bundle


class EnsemblePyfunc(PythonModel):
    """``predict`` takes observations (n, obs) and returns weights over cash and symbols."""

    bundle: EnsembleBundle

    def load_context(self, context: Any) -> None:
        self.bundle = load_bundle(Path(context.artifacts["bundle"]))

    def predict(self, context: Any, model_input: Any, params: Any = None) -> pd.DataFrame:
        weights = self.bundle.target_weights(model_input)
        return pd.DataFrame(weights, columns=["cash", *self.bundle.symbols])


set_model(EnsemblePyfunc())
