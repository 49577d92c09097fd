"""CLI start-up: `quantdesk --help` against the bare interpreter and an eager-import CLI.

The architecture keeps torch, ray, mlflow, feast and friends out of module scope so the CLI, the
DAG parser and the API start fast; this measures what that buys.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.measure import Measurement, median_of

HEAVY = "import torch, ray, mlflow, feast, great_expectations"


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def run() -> list[Measurement]:
    python = sys.executable
    cli = str(Path(python).with_name("quantdesk"))
    ours = median_of(lambda: _run([cli, "--help"]), repeat=5)
    bare = median_of(lambda: _run([python, "-c", "pass"]), repeat=5)
    eager = median_of(lambda: _run([python, "-c", f"{HEAVY}; import quantdesk.cli"]), repeat=2)
    return [
        Measurement("quantdesk --help (process)", ours, bare, "python -c pass"),
        Measurement("quantdesk --help (process)", ours, eager, "same CLI, eager heavy imports"),
    ]
