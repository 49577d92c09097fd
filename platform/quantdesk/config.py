"""The one Settings object of quantdesk.

Every tunable lives here, read from ``QUANTDESK_*`` environment variables (nested with
``__``, e.g. ``QUANTDESK_RAY__ADDRESS``) or an optional ``.env`` file. Everything the platform
writes lives under ``home``, so a user can see, back up and delete the whole state.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from quantdesk.domain.errors import ConfigurationError
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.redaction import redact_url

ENV_PREFIX = "QUANTDESK_"
ENV_NESTED_DELIMITER = "__"

DEFAULT_UNIVERSE: tuple[str, ...] = (
    "SPX",
    "NDX",
    "AAPL",
    "MSFT",
    "EUR-USD",
    "GBP-USD",
    "USD-JPY",
    "BTC-USD",
    "ETH-USD",
)


class RaySettings(BaseModel):
    """Local Ray by default; a cluster (KubeRay) when ``address`` is set."""

    address: str | None = None
    num_cpus: int = Field(default=2, ge=1)
    object_store_memory_mb: int = Field(default=256, ge=78)


class CoinbaseSettings(BaseModel):
    """Advanced Trade API. Public market data needs no key; trading would."""

    base_url: str = "https://api.coinbase.com"
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None


class OandaSettings(BaseModel):
    """OANDA v20 REST. ``environment`` picks the practice or live host."""

    environment: Literal["practice", "live"] = "practice"
    base_url: str | None = None
    token: SecretStr | None = None
    account_id: SecretStr | None = None

    @property
    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url
        if self.environment == "live":
            return "https://api-fxtrade.oanda.com"
        return "https://api-fxpractice.oanda.com"


class RobinhoodSettings(BaseModel):
    """Robinhood login; credentials have no defaults and are never logged."""

    base_url: str = "https://api.robinhood.com"
    username: SecretStr | None = None
    password: SecretStr | None = None
    mfa_secret: SecretStr | None = None


class RetentionSettings(BaseModel):
    """Days each lake zone keeps data; ``None`` keeps it forever. Backups keep the newest N."""

    raw_days: int | None = Field(default=30, ge=0)
    clean_days: int | None = Field(default=None, ge=0)
    quarantine_days: int | None = Field(default=90, ge=0)
    backups_keep: int = Field(default=7, ge=1)


class ModelSettings(BaseModel):
    """The CNN+LSTM hybrid: architecture, training, walk-forward folds and promotion gate."""

    window: int = Field(default=32, ge=2)
    conv_channels: tuple[int, ...] = (16, 16)
    kernel_sizes: tuple[int, ...] = (3, 3)
    dilations: tuple[int, ...] = (1, 2)
    lstm_hidden: int = Field(default=32, ge=1)
    lstm_layers: int = Field(default=1, ge=1)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    learning_rate: float = Field(default=1e-3, gt=0.0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    batch_size: int = Field(default=128, ge=1)
    max_epochs: int = Field(default=30, ge=1)
    patience: int = Field(default=5, ge=1)
    classification_weight: float = Field(default=1.0, ge=0.0)
    regression_weight: float = Field(default=1.0, ge=0.0)
    n_folds: int = Field(default=4, ge=1)
    test_size: int = Field(default=120, ge=1)
    validation_size: int = Field(default=60, ge=1)
    min_train_size: int = Field(default=250, ge=1)
    embargo: int = Field(default=2, ge=0)
    mc_samples: int = Field(default=30, ge=2)
    experiment: str = "hybrid"
    registered_name: str = "quantdesk-hybrid"
    promotion_margin: float = Field(default=0.005, ge=0.0)
    promotion_floor_ic: float | None = 0.0
    max_ece: float = Field(default=0.05, gt=0.0, le=1.0)
    tune_trials: int = Field(default=8, ge=1)


class RiskSettings(BaseModel):
    """Pre-trade limits and risk-report parameters. Notionals are in account currency;
    exposure, concentration, daily loss and drawdown are fractions of equity."""

    max_order_notional: float = Field(default=250_000.0, gt=0)
    max_position_notional: float = Field(default=500_000.0, gt=0)
    max_gross_exposure: float = Field(default=2.0, gt=0)
    max_net_exposure: float = Field(default=1.0, gt=0)
    max_concentration: float = Field(default=0.35, gt=0)
    price_collar_bps: float = Field(default=500.0, gt=0)
    max_orders_per_minute: int = Field(default=60, ge=1)
    max_daily_loss: float = Field(default=0.03, gt=0, lt=1)
    max_drawdown: float = Field(default=0.15, gt=0, lt=1)
    restricted_symbols: tuple[str, ...] = ()
    var_confidence: float = Field(default=0.99, gt=0.5, lt=1)
    var_limit: float = Field(default=0.05, gt=0, lt=1)
    ewma_lambda: float = Field(default=0.94, gt=0, lt=1)
    monte_carlo_paths: int = Field(default=20_000, ge=1000)
    lookback_days: int = Field(default=500, ge=30)

    @field_validator("restricted_symbols")
    @classmethod
    def _check_restricted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in value:
            validate_canonical_symbol(symbol)
        return value


class PortfolioSettings(BaseModel):
    """Optimizer bounds and rebalancing frictions (weights are fractions of equity)."""

    min_weight: float = Field(default=0.0, ge=-1, le=1)
    max_weight: float = Field(default=0.4, gt=0, le=1)
    risk_aversion: float = Field(default=5.0, gt=0)
    risk_free_rate: float = 0.0
    periods_per_year: int = Field(default=252, ge=1)
    max_turnover: float = Field(default=0.5, gt=0)
    min_trade_weight: float = Field(default=0.005, ge=0)
    cost_hurdle_multiple: float = Field(default=1.0, ge=0)


class DecisionSettings(BaseModel):
    """Rule thresholds and sizing of the decision engine (see quantdesk.decisions.engine)."""

    min_confidence: float = Field(default=0.45, ge=0, le=1)
    max_uncertainty: float = Field(default=0.5, gt=0)
    target_volatility: float = Field(default=0.10, gt=0)
    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    max_abs_weight: float = Field(default=0.25, gt=0, le=1)
    ml_blend: float = Field(default=0.5, ge=0, le=1)
    bars_per_year: int = Field(default=252, ge=1)


class CostSettings(BaseModel):
    """The one cost model of the platform (backtests, RL rewards, model evaluation).

    All in basis points of traded notional. Commissions follow the venue's fee schedule (taker
    side: backtests trade at market); the half-spread is paid on every trade and depends on the
    asset class; slippage is a flat extra. ``impact_coefficient`` adds a square-root impact
    ``coef * sqrt(traded / bar dollar volume)`` (a fraction of notional) when volumes are known;
    ``volume_cap`` limits each trade to that fraction of the bar's dollar volume.
    """

    fee_bps: dict[str, float] = Field(
        default_factory=lambda: {
            "coinbase": 40.0,  # Advanced Trade taker fee of a low-volume tier
            "oanda": 0.0,  # spread-only pricing: the cost is in half_spread_bps
            "robinhood": 0.0,  # commission-free equities
            "bundled": 1.0,  # indices traded through an index fund or future
            "synthetic": 1.0,
        }
    )
    half_spread_bps: dict[str, float] = Field(
        default_factory=lambda: {"equity": 1.0, "fx": 0.5, "crypto": 5.0}
    )
    slippage_bps: float = Field(default=1.0, ge=0)
    impact_coefficient: float = Field(default=0.0, ge=0)
    volume_cap: float | None = Field(default=None, gt=0, le=1)

    @field_validator("fee_bps", "half_spread_bps")
    @classmethod
    def _check_bps(cls, value: dict[str, float]) -> dict[str, float]:
        for key, bps in value.items():
            if not bps >= 0:
                raise ValueError(f"{key}: basis points must be >= 0, got {bps}")
        return value


class BacktestSettings(BaseModel):
    """Backtests: starting equity, annualisation, the SMA baseline and the walk-forward grid."""

    initial_equity: float = Field(default=1_000_000.0, gt=0)
    periods_per_year: int = Field(default=252, ge=1)
    risk_free_rate: float = 0.0
    benchmark: str = "SPX"
    sma_fast: int = Field(default=20, ge=1)
    sma_slow: int = Field(default=100, ge=2)
    walk_forward_folds: int = Field(default=5, ge=1)
    min_train_bars: int = Field(default=252, ge=1)
    embargo_bars: int = Field(default=5, ge=0)
    fill: Literal["open", "close"] = "open"  # a decision at bar t's close trades at t+1's ...
    rolling_window: int = Field(default=63, ge=2)  # bars in the report's rolling Sharpe
    cost_scales: tuple[float, ...] = (0.5, 1.0, 2.0)
    # Model strategies (hybrid, rl, ensemble): refit per fold, so kept small on purpose.
    model_epochs: int = Field(default=2, ge=1)
    model_mc_passes: int = Field(default=10, ge=2)
    model_validation_bars: int = Field(default=40, ge=2)
    rl_agents: tuple[str, ...] = ("ppo", "a2c")
    rl_timesteps: int = Field(default=2_000, ge=1)
    rl_normalize_window: int = Field(default=63, ge=2)


def _default_rl_hyperparameters() -> dict[str, dict[str, float | int | str]]:
    return {
        "ppo": {"learning_rate": 3e-4, "n_steps": 512, "batch_size": 64, "gamma": 0.99},
        "a2c": {"learning_rate": 7e-4, "n_steps": 16, "gamma": 0.99},
        "sac": {"learning_rate": 3e-4, "buffer_size": 100_000, "batch_size": 128},
        "td3": {"learning_rate": 1e-3, "buffer_size": 100_000, "batch_size": 128},
        "ddpg": {"learning_rate": 1e-3, "buffer_size": 100_000, "batch_size": 128},
    }


class RLSettings(BaseModel):
    """Reinforcement learning: the portfolio environment, the agents, the rolling ensemble.

    ``hyperparameters`` maps an agent to keyword arguments of its stable-baselines3 class
    (``QUANTDESK_RL__HYPERPARAMETERS='{"ppo": {"learning_rate": 1e-4}}'``). Window sizes are
    in bars: each fold trains on ``train_size`` bars, validates on the next
    ``validation_size`` and trades the ``trade_size`` after that.
    """

    agents: tuple[str, ...] = ("ppo", "a2c", "sac")
    timesteps: int = Field(default=20_000, ge=1)
    seeds: tuple[int, ...] = (0, 1, 2)
    features: tuple[str, ...] | None = None  # None: the ``rl_v1`` feature service
    granularity: str = "1d"
    normalize_window: int = Field(default=252, ge=2)
    window: int = Field(default=10, ge=1)
    episode_length: int | None = Field(default=126, ge=1)
    action_mode: Literal["softmax", "simplex", "discrete"] = "softmax"
    action_scale: float = Field(default=4.0, gt=0)
    risk_penalty: Literal["none", "volatility", "drawdown"] = "none"
    risk_aversion: float = Field(default=0.0, ge=0)
    turbulence_lookback: int = Field(default=60, ge=2)
    turbulence_quantile: float | None = Field(default=0.99, gt=0, le=1)
    reward_scale: float = Field(default=100.0, gt=0)
    net_arch: tuple[int, ...] = (64, 64)
    n_envs: int = Field(default=1, ge=1)  # parallel env copies per agent (SB3 VecEnv)
    subprocess_envs: bool = False  # SubprocVecEnv instead of DummyVecEnv
    hyperparameters: dict[str, dict[str, float | int | str]] = Field(
        default_factory=_default_rl_hyperparameters
    )
    folds: int = Field(default=3, ge=1)
    train_size: int = Field(default=504, ge=2)
    validation_size: int = Field(default=63, ge=2)
    trade_size: int = Field(default=63, ge=2)
    embargo: int = Field(default=0, ge=0)
    periods_per_year: int = Field(default=252, ge=1)
    tune_agent: str = "ppo"
    tune_samples: int = Field(default=8, ge=1)
    tune_timesteps: int = Field(default=5_000, ge=1)
    tune_concurrency: int = Field(default=2, ge=1)
    model_name: str = "quantdesk-rl-ensemble"
    promotion_margin: float = Field(default=0.05, ge=0.0)  # out-of-sample Sharpe units


class EmbeddedDataSettings(BaseModel):
    """The offline default market: which window ``make demo`` ingests and how the synthetic
    part is generated. The window is where the bundled real equity history (to 2013-03-01)
    overlaps; synthetic series (FX, crypto) are generated over the same dates."""

    start: date = date(2008, 1, 2)
    end: date = date(2013, 3, 1)
    synthetic_first_year: int = Field(default=2008, ge=1990, le=2049)

    @model_validator(mode="after")
    def _check_window(self) -> EmbeddedDataSettings:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if self.start.year < self.synthetic_first_year:
            raise ValueError("start must not be before synthetic_first_year")
        return self


class IngestSettings(BaseModel):
    """Scheduled ingestion: which source serves each asset class, at which bar sizes.

    The embedded default needs no credentials; production sets e.g.
    ``QUANTDESK_INGEST__SOURCES='{"equity": "robinhood", "fx": "oanda", "crypto": "coinbase"}'``.
    ``validate_lookback_days`` is the trailing window each validation run re-checks, so bars
    that arrive late are still gated.
    """

    sources: dict[Literal["equity", "fx", "crypto"], str] = {
        "equity": "embedded",
        "fx": "embedded",
        "crypto": "embedded",
    }
    granularities: dict[Literal["equity", "fx", "crypto"], tuple[str, ...]] = {
        "equity": ("1d",),
        "fx": ("1h", "1d"),
        "crypto": ("1h", "1d"),
    }
    validate_lookback_days: int = Field(default=7, ge=1)


class QualitySettings(BaseModel):
    """The quality gate: a batch with any series scoring below ``min_score`` is quarantined."""

    min_score: float = Field(default=0.9, ge=0.0, le=1.0)


class FeastSettings(BaseModel):
    """Feast feature store: SQLite online store by default, Redis (``redis_url``) in production.

    ``repo_dir`` holds the declarations and feature_store*.yaml; unset, it is the
    ``feature_repo/`` folder of the source tree. ``project`` namespaces the registry and the
    online keys, so two deployments can share one Redis.
    """

    project: str = Field(default="quantdesk", pattern=r"^[A-Za-z0-9][A-Za-z0-9_]*$")
    online_store: Literal["sqlite", "redis"] = "sqlite"
    repo_dir: Path | None = None


class LabelSettings(BaseModel):
    """Training targets: forward return over ``horizon`` bars, flat when |return| is small.

    A return is flat when ``|r| < flat_k * sigma * sqrt(horizon)``, sigma being the trailing
    ``vol_window``-bar standard deviation of log returns known at the label's start bar.
    """

    horizon: int = Field(default=1, ge=1)
    flat_k: float = Field(default=0.5, ge=0.0)
    vol_window: int = Field(default=20, ge=2)


class FeatureSettings(BaseModel):
    """Feature building. Indicator windows are part of each feature's name, so not tunable.

    ``warmup_days`` of history before ``start`` are read so windows and exponential filters
    are warm by the first row written.
    """

    benchmark_symbol: str = "SPX"
    warmup_days: int = Field(default=400, ge=0)
    labels: LabelSettings = LabelSettings()

    @field_validator("benchmark_symbol")
    @classmethod
    def _check_benchmark(cls, value: str) -> str:
        validate_canonical_symbol(value)
        return value


def _split_names(value: Any) -> Any:
    """Accept ``a,b`` as well as a JSON list from the environment (lists of names)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return tuple(json.loads(text))
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return value


class SlackAlertSettings(BaseModel):
    """Slack delivery: on when both ``token`` and ``channel`` are set."""

    token: SecretStr | None = None
    channel: str | None = None
    base_url: str = "https://slack.com/api/"
    timeout_seconds: int = Field(default=10, ge=1)


class EmailAlertSettings(BaseModel):
    """SMTP delivery: on when ``smtp_host`` and at least one recipient are set."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "quantdesk@localhost"
    recipients: Annotated[tuple[str, ...], NoDecode] = ()
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("recipients", mode="before")
    @classmethod
    def _split_recipients(cls, value: Any) -> Any:
        return _split_names(value)


class AlertSettings(BaseModel):
    """Alerts: below ``min_severity`` only logged; repeats of a key muted for the dedup window;
    at most ``throttle_max_alerts`` remote deliveries per throttle window (the outbox keeps all).
    """

    min_severity: Literal["info", "warning", "critical"] = "warning"
    dedup_window_seconds: float = Field(default=3600.0, ge=0)
    throttle_window_seconds: float = Field(default=3600.0, gt=0)
    throttle_max_alerts: int = Field(default=30, ge=1)
    outbox_dir: Path | None = None  # default <home>/alerts
    outbox_max_bytes: int = Field(default=5_000_000, ge=1024)
    outbox_keep_files: int = Field(default=5, ge=1)
    slack: SlackAlertSettings = SlackAlertSettings()
    email: EmailAlertSettings = EmailAlertSettings()


class ComplianceSettings(BaseModel):
    """Daily compliance exports: where they go and which audit actions count as breaches."""

    export_dir: str | None = None  # folder or fsspec URL; default <home>/exports/compliance
    breach_action_keywords: Annotated[tuple[str, ...], NoDecode] = ("breach", "denial", "denied")

    @field_validator("breach_action_keywords", mode="before")
    @classmethod
    def _split_keywords(cls, value: Any) -> Any:
        return _split_names(value)


class PodResources(BaseModel):
    """Kubernetes requests and limits of one task's pod (quantities as Kubernetes writes them)."""

    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"


class OrchestrationSettings(BaseModel):
    """How DAG tasks run: in the worker (``inprocess``) or as pods on the platform image."""

    mode: Literal["inprocess", "kubernetes"] = "inprocess"
    owner: str = "quantdesk"
    retries: int = Field(default=2, ge=2)
    retry_delay_seconds: float = Field(default=60.0, gt=0)
    max_retry_delay_seconds: float = Field(default=1800.0, gt=0)
    execution_timeout_minutes: float = Field(default=120.0, gt=0)
    dagrun_timeout_minutes: float = Field(default=360.0, gt=0)
    image: str = "quantdesk/platform:0.1.0"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    namespace: str = "quantdesk"
    service_account: str | None = None
    env_secret: str | None = None  # a Secret whose keys become the pod's environment
    env_config_map: str | None = None
    default_resources: PodResources = PodResources()
    task_resources: dict[str, PodResources] = {}


class Settings(BaseSettings):
    """Platform configuration. Construct through :func:`load_settings` to get clear errors."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    home: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    mlflow_tracking_uri: str | None = None
    universe: Annotated[tuple[str, ...], NoDecode] = DEFAULT_UNIVERSE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    torch_threads: int = Field(default=2, ge=1)
    seed: int = 7
    ray: RaySettings = RaySettings()
    coinbase: CoinbaseSettings = CoinbaseSettings()
    oanda: OandaSettings = OandaSettings()
    robinhood: RobinhoodSettings = RobinhoodSettings()
    retention: RetentionSettings = RetentionSettings()
    models: ModelSettings = ModelSettings()
    risk: RiskSettings = RiskSettings()
    portfolio: PortfolioSettings = PortfolioSettings()
    decisions: DecisionSettings = DecisionSettings()
    costs: CostSettings = CostSettings()
    backtest: BacktestSettings = BacktestSettings()
    rl: RLSettings = RLSettings()
    embedded: EmbeddedDataSettings = EmbeddedDataSettings()
    quality: QualitySettings = QualitySettings()
    ingest: IngestSettings = IngestSettings()
    feast: FeastSettings = FeastSettings()
    features: FeatureSettings = FeatureSettings()
    alerts: AlertSettings = AlertSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()

    @field_validator("universe", mode="before")
    @classmethod
    def _split_universe(cls, value: Any) -> Any:
        """Accept ``AAPL,BTC-USD`` as well as a JSON list from the environment."""
        return _split_names(value)

    @field_validator("universe")
    @classmethod
    def _check_universe(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("the universe must name at least one symbol")
        for symbol in value:
            validate_canonical_symbol(symbol)
        if len(set(value)) != len(value):
            raise ValueError("the universe lists a symbol twice")
        return value

    @field_validator("database_url", "redis_url", "mlflow_tracking_uri")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value and not value.startswith("sqlite:"):
            raise ValueError("expected a URL such as scheme://host/path")
        return value

    @model_validator(mode="after")
    def _resolve_home(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        return self

    # Derived paths: one place that knows where each piece of state lives.
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'quantdesk.db'}"

    @property
    def resolved_mlflow_tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def feast_dir(self) -> Path:
        return self.home / "feast"

    @property
    def features_dir(self) -> Path:
        return self.home / "features"

    @property
    def offline_features_dir(self) -> Path:
        """One Parquet file per feature view (see ``quantdesk.features.names``)."""
        return self.features_dir / "offline"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.home / "mlflow" / "artifacts"

    @property
    def quality_dir(self) -> Path:
        return self.home / "quality"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def paths(self) -> dict[str, Path]:
        """Every folder the platform owns, for ``quantdesk info`` and backups."""
        return {
            "home": self.home,
            "lake": self.lake_dir,
            "feast": self.feast_dir,
            "features": self.features_dir,
            "mlflow_artifacts": self.mlflow_artifacts_dir,
            "quality": self.quality_dir,
            "logs": self.logs_dir,
            "backups": self.backups_dir,
            "reports": self.reports_dir,
        }

    def redacted(self) -> dict[str, Any]:
        """A plain dict safe to print or log: secrets masked, URL passwords hidden."""
        data = self.model_dump(mode="json")
        for key in ("database_url", "redis_url", "mlflow_tracking_uri"):
            if data.get(key):
                data[key] = redact_url(data[key])
        data["resolved_database_url"] = redact_url(self.resolved_database_url)
        data["resolved_mlflow_tracking_uri"] = redact_url(self.resolved_mlflow_tracking_uri)
        return data

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name in ("database_url", "redis_url", "mlflow_tracking_uri") and value:
                yield name, redact_url(str(value))
            else:
                yield name, value


def env_var_name(location: tuple[int | str, ...]) -> str:
    """The environment variable that sets the field at ``location``."""
    parts = [str(part).upper() for part in location if not isinstance(part, int)]
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation failures into one error naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [f"{env_var_name(tuple(err['loc']))}: {err['msg']}" for err in exc.errors()]
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once (tests build their own with ``load_settings``)."""
    return load_settings()
