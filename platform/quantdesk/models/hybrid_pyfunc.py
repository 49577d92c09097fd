"""The hybrid as an MLflow pyfunc model: input raw windows, output probabilities and forecast.

Logged as *model from code* (this file, no pickled object): MLflow runs it on load, and
:func:`mlflow.models.set_model` below names the model it serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc.model import PythonModel

from quantdesk.models.bundle import load_bundle
from quantdesk.models.training import FittedHybrid

OUTPUT_COLUMNS = ("p_down", "p_flat", "p_up", "forecast")


class HybridPyfunc(PythonModel):
    """Loads the bundle from the ``bundle`` artifact; ``predict`` takes (n, window, features)."""

    model: FittedHybrid
    metadata: dict[str, Any]

    def load_context(self, context: Any) -> None:
        self.model, self.metadata = load_bundle(Path(context.artifacts["bundle"]))

    def predict(self, context: Any, model_input: Any, params: Any = None) -> pd.DataFrame:
        x = np.asarray(model_input, dtype=np.float32)
        probabilities, forecast = self.model.predict(x)
        frame = pd.DataFrame(probabilities, columns=list(OUTPUT_COLUMNS[:3]))
        frame["forecast"] = forecast
        return frame


set_model(HybridPyfunc())
