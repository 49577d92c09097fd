"""Smoke test of the whole design-card stack in the one project environment.

Every test imports one package and does one small but real thing with it (no mocks), so a
version clash, a missing native library or a broken wheel shows up here first, by name.
Heavy imports stay inside the tests: collection stays cheap and xdist spreads the cost.
Nothing is written outside ``tmp_path``: the autouse fixture points every home-directory
default (Airflow, matplotlib, MLflow telemetry, Ray's auth token, XDG caches) into it.
"""

import json
import logging
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from packaging.requirements import Requirement

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)

# Direct dependencies of the project (the design card), pins included, from pyproject.toml.
PROJECT_DEPENDENCIES: list[Requirement] = [
    Requirement(line)
    for line in tomllib.loads(
        (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    )["project"]["dependencies"]
]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every library's default state directory (many default to ``~``) inside tmp."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    # `import airflow` creates $AIRFLOW_HOME/logs; matplotlib (via shap, GE) builds a font
    # cache in MPLCONFIGDIR; MLflow writes telemetry.json under ~/.config on import.
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    # torch 2.13 makes /tmp/torchinductor_$USER as soon as an optimizer is built.
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "torchinductor"))
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("FEAST_USAGE", "False")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("DO_NOT_TRACK", "1")


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local servers must be reached directly, whatever proxy the shell exports."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def restore_global_logging() -> Iterator[None]:
    """`import airflow` reconfigures the root logger and structlog; undo it for later tests."""
    import structlog

    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    structlog_config = structlog.get_config()
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        structlog.configure(**structlog_config)


# ---- environment -------------------------------------------------


@pytest.mark.parametrize("requirement", PROJECT_DEPENDENCIES, ids=lambda r: r.name)
def test_design_card_dependency_is_installed_as_pinned(requirement: Requirement) -> None:
    """What got installed is what pyproject.toml asks for (torch's ``+cpu`` local tag allowed)."""
    installed = version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), installed


def test_pip_check_finds_no_broken_requirements() -> None:
    """All packages together: pip sees no unmet or conflicting requirement."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- airflow -----------------------------------------------------


@pytest.mark.slow
def test_airflow_cli_reports_version(tmp_path: Path) -> None:
    """The CLI boots (config, settings, providers) against a throwaway AIRFLOW_HOME."""
    airflow_home = tmp_path / "airflow"
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path / "home"),
        "AIRFLOW_HOME": str(airflow_home),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("3.3.")
    assert airflow_home.is_dir()


@pytest.mark.usefixtures("restore_global_logging")
def test_airflow_sdk_builds_taskflow_dag() -> None:
    """TaskFlow DAGs are parsed in-process by the scheduler; no metadata DB is needed."""
    from airflow.sdk import DAG, dag, task

    @dag(
        dag_id="smoke_prices",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
    )
    def smoke_prices() -> None:
        @task
        def extract() -> list[float]:
            return [1.0, 2.0, 3.0]

        @task
        def mean(values: list[float]) -> float:
            return sum(values) / len(values)

        mean(extract())

    built = smoke_prices()
    assert isinstance(built, DAG)
    assert built.dag_id == "smoke_prices"
    assert sorted(built.task_ids) == ["extract", "mean"]
    assert built.get_task("mean").upstream_task_ids == {"extract"}
    assert built.get_task("extract").python_callable() == [1.0, 2.0, 3.0]


@pytest.mark.usefixtures("restore_global_logging")
def test_kubernetes_pod_operator_in_dag() -> None:
    """The cncf-kubernetes provider is importable with this Airflow core and builds tasks."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk import DAG

    with DAG(
        dag_id="smoke_k8s", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)
    ) as built:
        pod = KubernetesPodOperator(
            task_id="train",
            name="train-pod",
            namespace="quantdesk",
            image="python:3.11-slim",
            cmds=["python", "-c"],
            arguments=["print('trained')"],
        )

    assert built.task_ids == ["train"]
    assert pod.dag_id == "smoke_k8s"
    assert pod.image == "python:3.11-slim"
    assert pod.name == "train-pod"
    assert pod.namespace == "quantdesk"


# ---- feast -------------------------------------------------------


@pytest.mark.slow
def test_feast_materializes_and_serves_latest_rows(tmp_path: Path) -> None:
    """Offline parquet -> sqlite online store round trip through the Python SDK."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64

    repo = tmp_path / "feature_repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        "project: smoke\n"
        "provider: local\n"
        f"registry: {repo / 'registry.db'}\n"
        "offline_store:\n"
        "  type: file\n"
        "online_store:\n"
        "  type: sqlite\n"
        f"  path: {repo / 'online_store.db'}\n"
        "entity_key_serialization_version: 3\n"
    )
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    bars = pd.DataFrame(
        [
            {
                "symbol": symbol,
                "event_timestamp": start + timedelta(hours=hour),
                "close": 100.0 * (rank + 1) + hour,
                "volume": 1_000 * (hour + 1) + rank,
            }
            for rank, symbol in enumerate(["AAPL", "MSFT"])
            for hour in range(3)
        ]
    )
    bars.to_parquet(repo / "bars.parquet")

    symbol = Entity(name="symbol", join_keys=["symbol"], value_type=ValueType.STRING)
    source = FileSource(
        name="bars", path=str(repo / "bars.parquet"), timestamp_field="event_timestamp"
    )
    view = FeatureView(
        name="bar_stats",
        entities=[symbol],
        ttl=timedelta(days=1),
        schema=[Field(name="close", dtype=Float64), Field(name="volume", dtype=Int64)],
        online=True,
        source=source,
    )
    store = FeatureStore(repo_path=str(repo))
    store.apply([symbol, source, view])
    store.materialize(start - timedelta(hours=1), start + timedelta(hours=6))
    online = store.get_online_features(
        features=["bar_stats:close", "bar_stats:volume"],
        entity_rows=[{"symbol": "AAPL"}, {"symbol": "MSFT"}],
    ).to_dict()

    latest = bars.sort_values("event_timestamp").groupby("symbol").last()
    assert online["symbol"] == ["AAPL", "MSFT"]
    assert online["close"] == latest.loc[["AAPL", "MSFT"], "close"].tolist()
    assert online["volume"] == latest.loc[["AAPL", "MSFT"], "volume"].tolist()
    assert online["close"] == [102.0, 202.0]


# ---- great expectations ------------------------------------------


def test_great_expectations_flags_bad_ohlcv() -> None:
    """An ephemeral GX context validates an in-memory frame: one pass, one real failure."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    bars = pd.DataFrame(
        {
            "open": [10.0, 10.5, 10.2],
            "high": [10.8, 10.9, 10.6],
            "low": [9.9, 10.1, 10.0],
            "close": [10.5, 10.2, 10.4],
            "volume": [1_200, 900, -5],
        }
    )
    asset = context.data_sources.add_pandas("market").add_dataframe_asset("ohlcv")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": bars}
    )
    suite = gx.ExpectationSuite(
        name="ohlcv",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="close"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="volume", min_value=0),
        ],
    )

    outcome = batch.validate(suite)

    by_type = {r.expectation_config.type: r for r in outcome.results}
    assert outcome.success is False
    assert by_type["expect_column_values_to_not_be_null"].success is True
    failed = by_type["expect_column_values_to_be_between"]
    assert failed.success is False
    assert failed.result["partial_unexpected_list"] == [-5]


# ---- mlflow ------------------------------------------------------


@pytest.mark.slow
# MLflow 3 saves sklearn models with skops, whose `whichmodule` probes every module in
# sys.modules; with Airflow loaded (an Airflow task logging a model) each probe of an
# Airflow compat shim emits a DeprecatedImportWarning (~1,160 per save). Noise, not a fault.
@pytest.mark.filterwarnings("ignore::FutureWarning:skops.io._utils")
def test_mlflow_tracks_registers_and_serves_by_alias(tmp_path: Path) -> None:
    """Run tracking and the model registry on a sqlite backend, then load `@champion`."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LinearRegression

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        experiment_id = mlflow.create_experiment(
            "smoke", artifact_location=(tmp_path / "artifacts").as_uri()
        )
        features = np.arange(10, dtype=float).reshape(-1, 1)
        model = LinearRegression().fit(features, 2.0 * features[:, 0] + 1.0)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_param("lookback", 20)
            mlflow.log_metric("sharpe", 1.25)
            logged = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="smoke_model", pip_requirements=[]
            )

        client = MlflowClient()
        stored = client.get_run(run.info.run_id)
        assert stored.data.params == {"lookback": "20"}
        assert stored.data.metrics == {"sharpe": 1.25}

        client.set_registered_model_alias(
            "smoke_model", "champion", str(logged.registered_model_version)
        )
        champion = mlflow.pyfunc.load_model("models:/smoke_model@champion")
        prediction = champion.predict(np.array([[3.0]]))
        assert prediction == pytest.approx([7.0])
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)


# ---- ray ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ray_runs_remote_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-CPU local Ray cluster schedules tasks and returns their results."""
    import ray

    from quantdesk.ray_runtime import AUTH_TOKEN_ENV, local_auth_token

    # Ray 2.60 turns token auth on for a new local cluster (it then sets RAY_AUTH_MODE=token
    # in os.environ itself) and saves a fresh token in ~/.ray/auth_token unless it finds one;
    # hand it this process's token (see quantdesk.ray_runtime). monkeypatch undoes Ray's
    # RAY_AUTH_MODE afterwards.
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv(AUTH_TOKEN_ENV, local_auth_token())
    # Short path on purpose: Ray's unix sockets live below it (108-byte limit).
    temp_dir = tempfile.mkdtemp(prefix="qdray")

    @ray.remote
    def square(value: int) -> int:
        return value * value

    try:
        ray.init(
            num_cpus=1,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            object_store_memory=80 * 1024 * 1024,
            _temp_dir=temp_dir,
            log_to_driver=False,
            configure_logging=False,
        )
        assert ray.get([square.remote(i) for i in range(5)]) == [0, 1, 4, 9, 16]
        assert ray.cluster_resources()["CPU"] == 1
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


# ---- torch / RL --------------------------------------------------


def test_torch_cpu_conv_lstm_trains_one_step() -> None:
    """CPU-only torch wheel; autograd flows through Conv1d and LSTM."""
    import torch
    from torch import nn

    assert torch.__version__.startswith("2.13")
    assert torch.version.cuda is None

    torch.manual_seed(0)
    conv = nn.Conv1d(in_channels=5, out_channels=8, kernel_size=3, padding=1)
    lstm = nn.LSTM(input_size=8, hidden_size=16, batch_first=True)
    head = nn.Linear(16, 1)
    params = [*conv.parameters(), *lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.1)

    bars = torch.randn(4, 5, 32)  # batch, OHLCV channels, time
    target = torch.randn(4, 1)
    hidden, _ = lstm(conv(bars).transpose(1, 2))
    loss = nn.functional.mse_loss(head(hidden[:, -1]), target)
    loss.backward()
    optimizer.step()

    assert hidden.shape == (4, 32, 16)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    with torch.no_grad():
        hidden_after, _ = lstm(conv(bars).transpose(1, 2))
        assert nn.functional.mse_loss(head(hidden_after[:, -1]), target) < loss


@pytest.mark.slow
def test_stable_baselines3_ppo_learns_and_acts(tmp_path: Path) -> None:
    """PPO (torch) drives a gymnasium env for one rollout and picks a valid action."""
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure

    env = gym.make("CartPole-v1")
    try:
        model = PPO(
            "MlpPolicy",
            env,
            n_steps=64,
            batch_size=32,
            n_epochs=1,
            seed=0,
            device="cpu",
            verbose=0,
        )
        # Without a logger of its own SB3 makes /tmp/SB3-<timestamp> on every learn().
        model.set_logger(configure(str(tmp_path / "sb3"), format_strings=[]))
        model.learn(total_timesteps=64)
        observation, _ = env.reset(seed=0)
        action, _ = model.predict(observation, deterministic=True)
    finally:
        env.close()

    assert model.num_timesteps == 64
    assert env.action_space.contains(int(action))


def test_gym_anytrading_env_on_shipped_prices() -> None:
    """gym-anytrading's envs still register and step under gymnasium 1.x."""
    import gym_anytrading  # noqa: F401  (registers stocks-v0 / forex-v0)
    import gymnasium as gym
    from gym_anytrading.datasets import STOCKS_GOOGL

    env = gym.make("stocks-v0", df=STOCKS_GOOGL, frame_bound=(10, 60), window_size=10)
    try:
        observation, _ = env.reset(seed=0)
        _, reward, terminated, truncated, info = env.step(1)
    finally:
        env.close()

    assert observation.shape == (10, 2)
    assert np.isfinite(reward)
    assert not (terminated or truncated)
    assert info["total_profit"] > 0


# ---- shap / sklearn ----------------------------------------------


def test_shap_values_are_additive() -> None:
    """SHAP (numba + C extension) explains a sklearn model; attributions sum to the output."""
    import shap
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 4))
    target = features[:, 0] * 2.0 - features[:, 1] + 0.1 * rng.normal(size=60)
    model = RandomForestRegressor(n_estimators=10, max_depth=3, random_state=0).fit(
        features, target
    )
    rows = features[:5]

    tree = shap.Explainer(model)(rows)
    np.testing.assert_allclose(
        tree.base_values + tree.values.sum(axis=1), model.predict(rows), atol=1e-6
    )

    kernel = shap.KernelExplainer(model.predict, features[:10])
    values = kernel.shap_values(rows, nsamples=64, silent=True)
    np.testing.assert_allclose(
        kernel.expected_value + values.sum(axis=1), model.predict(rows), atol=1e-6
    )


def test_sklearn_logistic_regression_separates_classes() -> None:
    """scikit-learn fits on numpy 2.4 arrays."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    features = rng.normal(size=(200, 2))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(features, labels)
    assert model.score(features, labels) > 0.95


# ---- UI ----------------------------------------------------------


def test_streamlit_app_reacts_to_input() -> None:
    """Streamlit's headless AppTest runs a script and reruns it on widget change."""
    from streamlit.testing.v1 import AppTest

    script = """
import streamlit as st

st.title("Position sizer")
quantity = st.number_input("Quantity", value=2, step=1)
st.write(f"Notional: {quantity * 10}")
"""
    app = AppTest.from_string(script, default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "Position sizer"
    assert app.markdown[0].value == "Notional: 20"

    app.number_input[0].set_value(7).run()
    assert not app.exception
    assert app.markdown[0].value == "Notional: 70"


def test_plotly_candlestick_serializes() -> None:
    """plotly 7 figures serialize to JSON with the trace type intact."""
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Candlestick(
            x=["2026-01-05", "2026-01-06"],
            open=[10.0, 10.5],
            high=[10.8, 10.9],
            low=[9.9, 10.1],
            close=[10.5, 10.2],
        )
    )
    payload = json.loads(figure.to_json())
    assert payload["data"][0]["type"] == "candlestick"
    assert len(payload["data"][0]["close"]) == 2


# ---- data --------------------------------------------------------


def test_duckdb_aggregates_parquet_like_pandas(tmp_path: Path) -> None:
    """pandas -> pyarrow parquet -> duckdb SQL agree on a per-symbol aggregate."""
    import duckdb
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2)
    bars = pd.DataFrame(
        {
            "symbol": np.repeat(["AAPL", "MSFT", "SPX"], 20),
            "close": rng.uniform(90, 110, size=60),
            "volume": rng.integers(1, 1_000, size=60),
        }
    )
    path = tmp_path / "bars.parquet"
    bars.to_parquet(path, engine="pyarrow")
    assert pq.read_metadata(path).num_rows == 60

    with duckdb.connect() as connection:
        from_sql = connection.execute(
            "SELECT symbol, avg(close) AS close, sum(volume) AS volume "
            "FROM read_parquet(?) GROUP BY symbol ORDER BY symbol",
            [str(path)],
        ).df()
    from_pandas = (
        bars.groupby("symbol").agg(close=("close", "mean"), volume=("volume", "sum")).reset_index()
    )

    assert from_sql["symbol"].tolist() == from_pandas["symbol"].tolist()
    np.testing.assert_allclose(from_sql["close"], from_pandas["close"])
    assert from_sql["volume"].astype(int).tolist() == from_pandas["volume"].tolist()


def test_arch_ships_sp500_history() -> None:
    """arch's bundled S&P 500 daily bars are the offline market history the platform uses."""
    from arch.data import sp500

    bars = sp500.load()
    assert len(bars) == 5031
    assert {"Open", "High", "Low", "Close", "Volume"} <= set(bars.columns)
    assert bars.index.is_monotonic_increasing
    assert (bars["High"] >= bars["Low"]).all()


def test_ta_rsi_of_rising_series_is_overbought() -> None:
    """The `ta` reference RSI: a strictly rising series has RSI 100."""
    from ta.momentum import RSIIndicator

    rsi = RSIIndicator(pd.Series(np.linspace(100.0, 130.0, 40)), window=14).rsi()
    assert rsi.iloc[:13].isna().all()
    assert rsi.iloc[-1] == pytest.approx(100.0)


def test_pywavelets_round_trip() -> None:
    """A multilevel discrete wavelet transform reconstructs the signal."""
    import pywt

    signal = np.sin(np.linspace(0, 8 * np.pi, 256)) + np.linspace(0, 1, 256)
    coefficients = pywt.wavedec(signal, "db4", level=3)
    assert len(coefficients) == 4
    np.testing.assert_allclose(pywt.waverec(coefficients, "db4")[: len(signal)], signal, atol=1e-12)


def test_cvxpy_min_variance_portfolio() -> None:
    """A long-only minimum-variance QP matches its closed form (weights ∝ 1/variance)."""
    import cvxpy as cp

    variances = np.array([0.04, 0.09, 0.16])
    weights = cp.Variable(3)
    problem = cp.Problem(
        cp.Minimize(cp.quad_form(weights, np.diag(variances))),
        [cp.sum(weights) == 1, weights >= 0],
    )
    problem.solve()
    expected = (1 / variances) / (1 / variances).sum()
    assert problem.status == cp.OPTIMAL
    np.testing.assert_allclose(weights.value, expected, atol=1e-4)


# ---- services / API ----------------------------------------------


def test_fastapi_served_by_uvicorn_answers_httpx(no_proxy: None) -> None:
    """A real uvicorn server on a free loopback port, called over HTTP with httpx."""
    import httpx
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/quote/{symbol}")
    def quote(symbol: str, size: int = 1) -> dict[str, Any]:
        return {"symbol": symbol.upper(), "notional": 10.5 * size}

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            response = client.get("/quote/aapl", params={"size": 4})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    assert response.status_code == 200
    assert response.json() == {"symbol": "AAPL", "notional": 42.0}
    assert not thread.is_alive()


class _SlackStub(BaseHTTPRequestHandler):
    """Records Web API calls and answers like Slack does."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body)
        else:
            payload = {key: values[0] for key, values in parse_qs(body).items()}
        self.calls.append((self.path, payload))
        answer = json.dumps({"ok": True, "channel": "C1", "ts": "1.0", "message": payload})
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


def test_slack_sdk_posts_to_local_server(no_proxy: None) -> None:
    """slack_sdk's WebClient speaks HTTP to a configurable base URL (here a local stub)."""
    from slack_sdk import WebClient

    _SlackStub.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlackStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = WebClient(
            token="xoxb-test", base_url=f"http://127.0.0.1:{server.server_port}/", timeout=10
        )
        response = client.chat_postMessage(channel="#x", text="hi")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    assert response["ok"] is True
    assert [path for path, _ in _SlackStub.calls] == ["/chat.postMessage"]
    assert _SlackStub.calls[0][1]["text"] == "hi"
    assert _SlackStub.calls[0][1]["channel"] == "#x"


# ---- persistence -------------------------------------------------


def test_sqlalchemy_orm_round_trip() -> None:
    """SQLAlchemy 2 typed ORM on in-memory sqlite.

    This module has no ``from __future__ import annotations`` on purpose: the declarative
    mapper must see real ``Mapped[...]`` objects for a class defined inside a function.
    """
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Fill(Base):
        __tablename__ = "fills"
        id: Mapped[int] = mapped_column(primary_key=True)
        symbol: Mapped[str]
        quantity: Mapped[float]

    engine = create_engine("sqlite+pysqlite:///:memory:")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Fill(symbol="AAPL", quantity=3.0), Fill(symbol="AAPL", quantity=-1.0)])
        session.commit()
        quantities = session.scalars(select(Fill.quantity).where(Fill.symbol == "AAPL")).all()
    engine.dispose()
    assert sum(quantities) == pytest.approx(2.0)


def test_alembic_operations_create_table() -> None:
    """Alembic's migration operations run against a live sqlite connection."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    engine = sa.create_engine("sqlite+pysqlite:///:memory:")
    with engine.begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        operations.create_table(
            "orders",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("symbol", sa.String(16), nullable=False),
        )
        operations.add_column("orders", sa.Column("quantity", sa.Float))
        inspector = sa.inspect(connection)
        assert inspector.has_table("orders")
        assert [c["name"] for c in inspector.get_columns("orders")] == ["id", "symbol", "quantity"]
    engine.dispose()


def test_redis_and_psycopg_clients_import() -> None:
    """Client libraries only; the real-service tests (markers postgres/redis) live elsewhere."""
    import psycopg
    import redis

    assert redis.__version__ == version("redis")
    assert psycopg.__version__ == version("psycopg")
    assert psycopg.pq.__impl__ in {"binary", "c"}  # not the slow pure-python libpq binding
    client = redis.Redis.from_url("redis://127.0.0.1:6399/3")  # does not connect yet
    assert client.connection_pool.connection_kwargs["db"] == 3


# ---- security / config / CLI -------------------------------------


def test_pyjwt_and_fernet_round_trip() -> None:
    """HS256 tokens and Fernet encryption, both backed by `cryptography`."""
    import jwt
    from cryptography.fernet import Fernet, InvalidToken

    key = secrets.token_bytes(32)
    token = jwt.encode({"sub": "desk", "scope": "trade"}, key, algorithm="HS256")
    assert jwt.decode(token, key, algorithms=["HS256"]) == {"sub": "desk", "scope": "trade"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, secrets.token_bytes(32), algorithms=["HS256"])

    fernet = Fernet(Fernet.generate_key())
    secret = fernet.encrypt(b"api-secret")
    assert fernet.decrypt(secret) == b"api-secret"
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(secret)


def test_pydantic_settings_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic-settings maps prefixed and nested environment variables onto a model."""
    from pydantic import BaseModel
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class RayOptions(BaseModel):
        num_cpus: int = 2

    class SmokeSettings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="SMOKE_", env_nested_delimiter="__")
        seed: int = 7
        ray: RayOptions = RayOptions()

    monkeypatch.setenv("SMOKE_SEED", "42")
    monkeypatch.setenv("SMOKE_RAY__NUM_CPUS", "1")
    settings = SmokeSettings()
    assert settings.seed == 42
    assert settings.ray.num_cpus == 1


def test_typer_cli_prints_with_rich() -> None:
    """A typer command run through its CliRunner, printing through rich."""
    import typer
    from rich.console import Console
    from typer.testing import CliRunner

    app = typer.Typer()

    @app.command()
    def size(symbol: str, quantity: int = typer.Option(1)) -> None:
        Console(width=80, no_color=True).print(f"[bold]{symbol}[/bold] x {quantity}")

    result = CliRunner().invoke(app, ["AAPL", "--quantity", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "AAPL x 3"


def test_structlog_renders_json_events() -> None:
    """structlog processors render a JSON event (own logger: global config is left alone)."""
    import structlog
    from structlog.testing import CapturingLogger

    sink = CapturingLogger()
    log = structlog.wrap_logger(
        sink,
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
    )
    log.bind(symbol="AAPL").info("order_filled", quantity=3)

    [call] = sink.calls
    event = json.loads(call.args[0])
    assert call.method_name == "info"
    assert event["event"] == "order_filled"
    assert event["level"] == "info"
    assert event["symbol"] == "AAPL"
    assert event["quantity"] == 3
    assert event["timestamp"].endswith("Z")
