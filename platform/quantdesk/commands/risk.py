"""``quantdesk risk ...``: VaR/ES and stress report, and the kill switch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.domain.errors import InvalidInputError

app = typer.Typer(help="Risk: VaR/ES and stress report; the kill switch (trading state).")


def _parse_weights(text: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        symbol, sep, value = part.partition("=")
        try:
            weights[symbol.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InvalidInputError(f"--weights expects SYMBOL=WEIGHT pairs, got {part!r}")
    return weights


@app.command("report")
def report(
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: universe in the lake).")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="SYMBOL=WEIGHT,... (default: equal weight).")
    ] = None,
    positions: Annotated[
        Path | None, typer.Option(help="JSON {symbol: quantity}: the current book.")
    ] = None,
    value: Annotated[float, typer.Option(help="Portfolio value for weights (currency).")] = 1e6,
    days: Annotated[int | None, typer.Option(help="Calendar days of history.")] = None,
    confidence: Annotated[float | None, typer.Option(help="VaR confidence.")] = None,
    scenarios: Annotated[Path | None, typer.Option(help="JSON file of extra scenarios.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """VaR/ES (historical, parametric EWMA, Monte Carlo) and stress over clean daily bars."""
    import pandas as pd

    from quantdesk.data.lake import Lake
    from quantdesk.portfolio.market_returns import daily_returns, lake_symbols, last_closes
    from quantdesk.risk.stress import (
        HISTORICAL_STYLE_SCENARIOS,
        apply_scenario,
        load_scenarios,
        worst_window_scenario,
    )
    from quantdesk.risk.var import ewma_volatility, portfolio_returns, var_report

    settings = current_settings()
    lake = Lake(settings.lake_dir)
    end = datetime.now(UTC)
    lookback = days or settings.risk.lookback_days
    level = confidence or settings.risk.var_confidence
    book: dict[str, float] | None = None
    if positions is not None:
        try:
            book = {str(k): float(v) for k, v in json.loads(positions.read_text()).items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"cannot read positions from {positions}: {exc}") from None
    if book is not None:
        names = list(book)
    elif weights:
        names = list(_parse_weights(weights))
    elif symbols:
        names = [s.strip() for s in symbols.split(",") if s.strip()]
    else:
        names = lake_symbols(lake, settings.universe)
    returns = daily_returns(lake, names, end, lookback)
    if book is not None:
        closes = last_closes(lake, names, end, lookback)
        exposures = {s: q * float(closes[s]) for s, q in book.items()}
        value = sum(exposures.values())
        if value <= 0:
            raise InvalidInputError("the positions have no positive net value to report on")
        w = pd.Series({s: v / value for s, v in exposures.items()})
        source = "positions"
    elif weights:
        w = pd.Series(_parse_weights(weights))
        source = "weights"
    else:
        w = pd.Series(1.0 / len(names), index=names)
        source = "equal weight"
    exposures = {s: float(x) * value for s, x in w.items()}
    vol = ewma_volatility(portfolio_returns(returns, w), settings.risk.ewma_lambda)
    estimates = var_report(
        returns, w, level, ewma_lambda=settings.risk.ewma_lambda,
        paths=settings.risk.monte_carlo_paths, seed=settings.seed,
    )  # fmt: skip
    stress = [*HISTORICAL_STYLE_SCENARIOS, worst_window_scenario(returns, w, 5)]
    if scenarios is not None:
        stress.extend(load_scenarios(scenarios))
    results = [apply_scenario(exposures, s) for s in stress]
    document: dict[str, Any] = {
        "portfolio": {"source": source, "value": value, "weights": w.to_dict()},
        "history": {
            "days": len(returns),
            "first": str(returns.index[0]),
            "last": str(returns.index[-1]),
        },
        "ewma_volatility": vol,
        "var_limit": settings.risk.var_limit,
        "var": [
            {"method": e.method.value, "confidence": e.confidence, "var": e.var,
             "expected_shortfall": e.expected_shortfall, "var_currency": e.var * value,
             "es_currency": e.expected_shortfall * value}
            for e in estimates
        ],
        "stress": [
            {"scenario": r.scenario, "pnl": r.pnl, "return": r.return_on(value)} for r in results
        ],
    }  # fmt: skip
    if as_json:
        typer.echo(json.dumps(document, indent=2, default=str))
        return
    console.print(
        f"[bold]{source}[/bold] portfolio of {len(w)} symbols, value {value:,.0f}; "
        f"{len(returns)} daily returns to {returns.index[-1]:%Y-%m-%d}; "
        f"EWMA daily vol {document['ewma_volatility']:.2%}"
    )
    table = Table(title=f"One-day VaR / ES at {level:.1%}")
    for column in ("method", "VaR", "ES", "VaR (ccy)", "ES (ccy)"):
        table.add_column(column, justify="right")
    for e in estimates:
        table.add_row(
            e.method.value, f"{e.var:.2%}", f"{e.expected_shortfall:.2%}",
            f"{e.var * value:,.0f}", f"{e.expected_shortfall * value:,.0f}",
        )  # fmt: skip
    console.print(table)
    if estimates[1].var > settings.risk.var_limit:
        console.print(
            f"[bold red]parametric VaR {estimates[1].var:.2%} is over the limit "
            f"{settings.risk.var_limit:.2%} (QUANTDESK_RISK__VAR_LIMIT)[/bold red]"
        )
    shocks = Table(title="Stress scenarios")
    for column in ("scenario", "P&L", "return"):
        shocks.add_column(column, justify="right")
    for r in results:
        shocks.add_row(r.scenario, f"{r.pnl:,.0f}", f"{r.return_on(value):.2%}")
    console.print(shocks)


def _change_state(state: str, reason: str, actor: str) -> None:
    """Flip the kill switch and link the change into the audit chain of the operational store."""
    from quantdesk.risk.kill_switch import KillSwitch
    from quantdesk.risk.trading_state import TradingState
    from quantdesk.store import OperationalStore

    settings = current_settings()
    switch = KillSwitch.from_settings(settings)
    before = switch.status()
    after = switch.set_state(TradingState(state), reason=reason, actor=actor)
    settings.home.mkdir(parents=True, exist_ok=True)
    with OperationalStore.from_settings(settings) as store:
        store.upgrade()
        store.append_audit_event(
            actor, "risk.trading_state", "kill_switch",
            {"from": before.state.value, "to": after.state.value, "reason": after.reason},
            occurred_at=after.changed_at,
        )  # fmt: skip
    typer.echo(json.dumps(after.to_dict()))


@app.command("status")
def status() -> None:
    """The trading state: active, reducing (reduce-only) or halted."""
    from quantdesk.risk.kill_switch import KillSwitch

    typer.echo(json.dumps(KillSwitch.from_settings(current_settings()).status().to_dict()))


@app.command("halt")
def halt(
    reason: Annotated[str, typer.Option(help="Why trading stops (recorded).")],
    actor: Annotated[str, typer.Option(help="Who stops it.")] = "cli",
) -> None:
    """Engage the kill switch: no new orders (audited)."""
    _change_state("halted", reason, actor)


@app.command("reduce")
def reduce(
    reason: Annotated[str, typer.Option(help="Why trading becomes reduce-only.")],
    actor: Annotated[str, typer.Option(help="Who sets it.")] = "cli",
) -> None:
    """Reduce-only: orders may only shrink positions (audited)."""
    _change_state("reducing", reason, actor)


@app.command("resume")
def resume(
    reason: Annotated[str, typer.Option(help="Why trading may resume.")],
    actor: Annotated[str, typer.Option(help="Who resumes it.")] = "cli",
) -> None:
    """Back to ACTIVE (audited)."""
    _change_state("active", reason, actor)
