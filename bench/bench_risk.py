"""Risk and portfolio: pre-trade checks, historical VaR, risk parity, each beside a peer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from bench.measure import Measurement, best_of
from quantdesk.domain.trading import Order, Side
from quantdesk.portfolio.optimizer import risk_contributions, risk_parity
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import AccountState, check_order
from quantdesk.risk.var import historical_var

SYMBOLS = ("AAPL", "MSFT", "SPX", "NDX", "BTC-USD", "ETH-USD", "EUR-USD", "GBP-USD")


def _orders(n: int) -> list[Order]:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        Order(f"b-{i}", SYMBOLS[i % len(SYMBOLS)], Side.BUY if i % 3 else Side.SELL, 1.0 + i % 7,
              t0 + timedelta(seconds=i))
        for i in range(n)
    ]  # fmt: skip


def _pretrade() -> Measurement:
    n = 5_000
    limits = RiskLimits(
        max_order_notional=1e6, max_position_notional=5e6, max_gross_exposure=3,
        max_net_exposure=2, max_concentration=0.5, price_collar_bps=200,
        max_orders_per_minute=600, max_daily_loss=0.05, max_drawdown=0.2,
    )  # fmt: skip
    state = AccountState(
        equity=1e7, start_of_day_equity=1e7, peak_equity=1e7,
        positions={s: 100.0 for s in SYMBOLS}, last_prices={s: 100.0 for s in SYMBOLS},
        recent_order_times=tuple(datetime(2026, 1, 5, tzinfo=UTC) for _ in range(50)),
    )  # fmt: skip
    orders = _orders(n)
    ours = best_of(lambda: [check_order(o, state, limits) for o in orders], repeat=3)
    peer = best_of(lambda: _orders(n), repeat=3)
    return Measurement("pre-trade checks (all 10 kinds), 8 positions", ours, peer,
                       "building the Order values", n, "orders")  # fmt: skip


def _historical_var() -> Measurement:
    returns = np.random.default_rng(1).standard_t(4, 1_000_000) * 0.01

    def peer() -> tuple[float, float]:
        series = pd.Series(returns)
        cut = series.quantile(0.01)
        return -cut, -series[series <= cut].mean()

    ours = best_of(lambda: historical_var(returns, 0.99))
    return Measurement("historical VaR/ES, 1e6 returns", ours, best_of(peer),
                       "pandas quantile + tail mean")  # fmt: skip


def _risk_parity() -> Measurement:
    from scipy.optimize import minimize

    rng = np.random.default_rng(2)
    n = 20
    factors = rng.normal(size=(n, 3))
    cov_values = factors @ factors.T * 1e-4 + np.diag(rng.uniform(1e-4, 9e-4, n))
    names = [f"A{i}" for i in range(n)]
    cov = pd.DataFrame(cov_values, index=names, columns=names)

    def peer() -> np.ndarray:
        def spread(w: np.ndarray) -> float:
            contributions = w * (cov_values @ w)
            return float(((contributions - contributions.mean()) ** 2).sum() * 1e8)

        result = minimize(spread, np.full(n, 1 / n), method="SLSQP", bounds=[(1e-6, 1)] * n,
                          constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                          options={"ftol": 1e-14, "maxiter": 500})  # fmt: skip
        return np.asarray(result.x)

    ours_result = risk_parity(cov)
    peer_weights = pd.Series(peer(), index=names)
    ours_err = float(np.abs(ours_result.risk_contributions - 1 / n).max())
    peer_err = float(np.abs(risk_contributions(peer_weights, cov) - 1 / n).max())
    label = f"risk parity, 20 assets (max RC error {ours_err:.0e} vs {peer_err:.0e})"
    return Measurement(label, best_of(lambda: risk_parity(cov), 3), best_of(peer, 3),
                       "scipy SLSQP on RC spread")  # fmt: skip


def run() -> list[Measurement]:
    return [_pretrade(), _historical_var(), _risk_parity()]
