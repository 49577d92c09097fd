"""A multi-asset portfolio environment (gymnasium) stepped with pure NumPy over preloaded arrays.

Timing, the part that makes or breaks an RL backtest:

- the observation at step ``t`` is the window of features of rows ``t - window + 1 .. t``
  (known when bar ``t`` closes) plus the current weights (cash first); nothing after ``t``;
- the action is the target mix, traded at the close of bar ``t`` through the shared cost
  model (:meth:`~quantdesk.backtest.costs.CostModel.rebalance_cost`: fee + half spread +
  slippage per unit traded; the holdings become the target weights of post-cost equity);
- the reward is the log growth of the portfolio from ``t`` to ``t + 1`` net of that cost,
  minus an optional risk penalty; then the weights drift with the prices;
- when the turbulence index at ``t`` (prices up to ``t``) exceeds the threshold, the target is
  forced to all cash (a risk halt).

Episodes run over the tensor the environment was given (a date range): from the first row with
a full window to the last row that has a next price, or, with ``episode_length``, over a random
stretch drawn from the seeded generator of :meth:`reset`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from quantdesk.backtest.costs import CostModel, linear_rebalance_cost
from quantdesk.domain.errors import InvalidInputError
from quantdesk.rl.actions import discrete_weights, simplex_projection, softmax_weights
from quantdesk.rl.market_tensor import MarketTensor
from quantdesk.rl.turbulence import turbulence_index

FloatArray = npt.NDArray[np.float64]
ActionMode = Literal["softmax", "simplex", "discrete"]
RiskPenalty = Literal["none", "volatility", "drawdown"]


@dataclass(frozen=True, slots=True)
class EnvConfig:
    """How the environment observes, trades and rewards; equal configs give equal episodes.

    ``action_scale`` multiplies the action before the softmax (how concentrated a mix the
    agent can reach from actions in [-1, 1]). ``risk_aversion`` weighs the penalty: the squared
    step return for ``volatility``, the increase in drawdown for ``drawdown``.
    ``turbulence_threshold`` of ``None`` never halts. ``reward_scale`` only rescales rewards
    for the learner.
    """

    window: int = 10
    episode_length: int | None = None
    action_mode: ActionMode = "softmax"
    action_scale: float = 4.0
    discrete_levels: int = 3
    risk_penalty: RiskPenalty = "none"
    risk_aversion: float = 0.0
    turbulence_lookback: int = 60
    turbulence_threshold: float | None = None
    reward_scale: float = 1.0
    initial_value: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "window must be >= 1": self.window >= 1,
            "episode_length must be >= 1": self.episode_length is None or self.episode_length >= 1,
            "action_mode must be softmax, simplex or discrete": self.action_mode
            in ("softmax", "simplex", "discrete"),
            "action_scale must be > 0": self.action_scale > 0,
            "discrete_levels must be >= 2": self.discrete_levels >= 2,
            "risk_penalty must be none, volatility or drawdown": self.risk_penalty
            in ("none", "volatility", "drawdown"),
            "risk_aversion must be >= 0": self.risk_aversion >= 0,
            "turbulence_lookback must be >= 2": self.turbulence_lookback >= 2,
            "reward_scale must be > 0": self.reward_scale > 0,
            "initial_value must be > 0": self.initial_value > 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise InvalidInputError("RL env config: " + "; ".join(failed))


def weights_from_action(action: Any, config: EnvConfig) -> FloatArray:
    """The (cash, assets) mix an agent's action asks for under ``config``'s action mode."""
    if config.action_mode == "softmax":
        return softmax_weights(np.asarray(action, dtype=np.float64), config.action_scale)
    if config.action_mode == "simplex":
        return simplex_projection(np.asarray(action, dtype=np.float64))
    return discrete_weights(np.asarray(action, dtype=np.int64))


class PortfolioEnv(gym.Env[npt.NDArray[np.float32], Any]):
    """Target-weight portfolio over cash and N assets; see the module docstring for timing."""

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium's own class attribute)

    def __init__(
        self,
        market: MarketTensor,
        costs: CostModel,
        config: EnvConfig | None = None,
        turbulence: FloatArray | None = None,
    ) -> None:
        super().__init__()
        self.config = config or EnvConfig()
        self.market = market
        n, f, w = len(market.symbols), len(market.feature_names), self.config.window
        self.n_assets = n
        if costs.symbols != market.symbols:
            raise InvalidInputError(
                f"cost model symbols {costs.symbols} differ from the market's {market.symbols}"
            )
        if costs.impact_coefficient > 0:
            raise InvalidInputError(
                "the RL environment charges the cost model's linear rates only; "
                "set QUANTDESK_COSTS__IMPACT_COEFFICIENT=0 for RL training"
            )
        if np.any(costs.linear_rate >= 0.5):
            raise InvalidInputError("cost rates above 50% of notional make no sense")
        self.costs = costs
        # The model's own linear solver (what CostModel.rebalance_cost runs for linear costs),
        # called with a reused buffer: one step allocates as little as possible.
        self._rates = costs.linear_rate
        self._scratch = np.empty(n)
        self._first = w - 1  # first row with a full window
        self._last = len(market) - 2  # last row with a next price
        if self._last < self._first:
            raise InvalidInputError(
                f"{len(market)} rows cannot fill a window of {w} and one step after it"
            )
        if self.config.episode_length is not None and (
            self.config.episode_length > self._last - self._first + 1
        ):
            raise InvalidInputError(
                f"episode_length {self.config.episode_length} exceeds the "
                f"{self._last - self._first + 1} steps available"
            )
        # Preloaded arrays: every step only indexes them.
        self._flat_features = np.ascontiguousarray(
            market.features.reshape(len(market), n * f), dtype=np.float32
        )
        # Row t: growth of (cash, assets) from t to t + 1; cash earns nothing.
        growth = np.ones((len(market) - 1, n + 1))
        growth[:, 1:] = market.prices[1:] / market.prices[:-1]
        self._growth = growth
        self._penalized = self.config.risk_penalty != "none" and self.config.risk_aversion > 0
        if turbulence is None:
            turbulence = (
                turbulence_index(market.prices, self.config.turbulence_lookback)
                if self.config.turbulence_threshold is not None
                else np.zeros(len(market))
            )
        if np.shape(turbulence) != (len(market),):
            raise InvalidInputError("turbulence must have one value per row of the tensor")
        threshold = self.config.turbulence_threshold
        self._halt: list[bool] = (
            (np.asarray(turbulence) > threshold).tolist()
            if threshold is not None
            else [False] * len(market)
        )
        self._obs_size = w * n * f + n + 1
        self._feature_size = w * n * f
        self._window_back = w - 1
        self.observation_space = spaces.Box(-np.inf, np.inf, (self._obs_size,), np.float32)
        self.action_space: spaces.Space[Any]
        if self.config.action_mode == "discrete":
            self.action_space = spaces.MultiDiscrete([self.config.discrete_levels] * (n + 1))
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (n + 1,), np.float32)
        self._cash = np.zeros(n + 1)
        self._cash[0] = 1.0
        self._t = self._first
        self._end = self._last
        self._weights = self._cash.copy()
        self._value = self.config.initial_value
        self._peak = self._value
        self._drawdown = 0.0

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        length = self.config.episode_length
        if length is None:
            start = self._first
            self._end = self._last
        else:
            start = int(self.np_random.integers(self._first, self._last - length + 2))
            self._end = start + length - 1
        if options and "start" in options:
            start = int(options["start"])
            if not self._first <= start <= self._last:
                raise InvalidInputError(f"start row must be in [{self._first}, {self._last}]")
            self._end = self._last if length is None else min(self._last, start + length - 1)
        self._t = start
        self._weights = self._cash.copy()
        self._value = self.config.initial_value
        self._peak = self._value
        self._drawdown = 0.0
        return self._observe(), self._info(0.0, 0.0, False)

    def step(
        self, action: Any
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        return self.step_weights(self.target_weights(action))

    def step_weights(
        self, target: FloatArray
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """One step towards the (cash, assets) mix ``target`` (on the simplex), bypassing the
        action mapping: how baselines and blended ensembles trade the same environment."""
        t = self._t
        halted = self._halt[t]
        if halted:
            target = self._cash
        # The shared accounting: after the trade the holdings are the target weights of the
        # post-cost equity (the cost model's exact solver, as in CostModel.rebalance_cost).
        held = self._weights[1:]
        cost = float(linear_rebalance_cost(held, target[1:], self._rates, self._scratch))
        drifted = target * self._growth[t]  # cash grows by 1
        gross = float(drifted.sum())
        growth = (1.0 - cost) * gross
        log_return = math.log(growth)
        self._value *= growth
        self._weights = drifted / gross
        reward = log_return - self._penalty(log_return) if self._penalized else log_return
        self._t = t + 1
        ended = self._t > self._end
        terminated = ended and self.config.episode_length is None
        info = {
            "row": self._t,
            "value": self._value,
            "cost": cost,
            "turnover": float(np.abs(target[1:] * (1.0 - cost) - held).sum()),
            "halted": halted,
        }
        obs = self._observe()
        return obs, reward * self.config.reward_scale, terminated, ended and not terminated, info

    # -- pieces ------------------------------------------------------------------------------
    def target_weights(self, action: Any) -> FloatArray:
        """The (cash, assets) mix an action asks for, before any risk halt."""
        return weights_from_action(action, self.config)

    @property
    def row(self) -> int:
        """The tensor row the next observation describes (bar ``t``)."""
        return self._t

    @property
    def weights(self) -> FloatArray:
        return self._weights.copy()

    @property
    def value(self) -> float:
        return self._value

    def _penalty(self, log_return: float) -> float:
        aversion = self.config.risk_aversion
        if self.config.risk_penalty == "volatility":
            return aversion * log_return * log_return
        if self.config.risk_penalty == "drawdown":
            self._peak = max(self._peak, self._value)
            drawdown = 1.0 - self._value / self._peak
            increase = max(0.0, drawdown - self._drawdown)
            self._drawdown = drawdown
            return aversion * increase
        return 0.0

    def _observe(self) -> npt.NDArray[np.float32]:
        t = min(self._t, self._last + 1)
        obs = np.empty(self._obs_size, dtype=np.float32)
        obs[: self._feature_size] = self._flat_features[t - self._window_back : t + 1].ravel()
        obs[self._feature_size :] = self._weights
        return obs

    def _info(self, cost: float, turnover: float, halted: bool) -> dict[str, Any]:
        return {
            "row": self._t,
            "value": self._value,
            "cost": cost,
            "turnover": turnover,
            "halted": halted,
        }
