"""``quantdesk portfolio optimize``: target weights from clean daily bars."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings

app = typer.Typer(help="Portfolio construction: optimizers over clean daily bars.")

METHOD_HELP = "mv (mean-variance), minvar, maxsharpe, riskparity or hrp."


@app.command("optimize")
def optimize(
    method: Annotated[str, typer.Option(help=METHOD_HELP)] = "hrp",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: universe in the lake).")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Calendar days of history.")] = None,
    min_weight: Annotated[float | None, typer.Option(help="Lower bound per asset.")] = None,
    max_weight: Annotated[float | None, typer.Option(help="Upper bound per asset.")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the weights as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Weights by the chosen method on a Ledoit-Wolf covariance of daily returns."""
    from quantdesk.data.atomic_files import write_file_atomic
    from quantdesk.data.lake import Lake
    from quantdesk.domain.errors import InvalidInputError
    from quantdesk.portfolio.market_returns import daily_returns, lake_symbols
    from quantdesk.portfolio.optimizer import OptimizationMethod
    from quantdesk.portfolio.optimizer import optimize as run_optimizer

    settings = current_settings()
    try:
        chosen = OptimizationMethod(method.strip().lower())
    except ValueError:
        raise InvalidInputError(f"unknown method {method!r}; choose {METHOD_HELP}") from None
    updates: dict[str, Any] = {}
    if min_weight is not None:
        updates["min_weight"] = min_weight
    if max_weight is not None:
        updates["max_weight"] = max_weight
    portfolio_settings = settings.portfolio.model_validate(
        settings.portfolio.model_dump() | updates
    )
    lake = Lake(settings.lake_dir)
    names = (
        [s.strip() for s in symbols.split(",") if s.strip()]
        if symbols
        else lake_symbols(lake, settings.universe)
    )
    returns = daily_returns(lake, names, datetime.now(UTC), days or settings.risk.lookback_days)
    result = run_optimizer(chosen, returns, portfolio_settings)
    periods = portfolio_settings.periods_per_year
    document: dict[str, Any] = {
        "method": chosen.value,
        "days": len(returns),
        "weights": {str(k): float(v) for k, v in result.weights.items()},
        "risk_contributions": {str(k): float(v) for k, v in result.risk_contributions.items()},
        "annual_volatility": result.volatility * periods**0.5,
        "annual_expected_return": (
            None if result.expected_return is None else result.expected_return * periods
        ),
    }
    if out is not None:
        payload = json.dumps(document, indent=2).encode("utf-8")
        write_file_atomic(out, lambda handle: handle.write(payload))
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    table = Table(title=f"{chosen.value} weights over {len(returns)} daily returns")
    for column in ("symbol", "weight", "risk share"):
        table.add_column(column, justify="right")
    for symbol, weight in document["weights"].items():
        table.add_row(symbol, f"{weight:.2%}", f"{document['risk_contributions'][symbol]:.2%}")
    console.print(table)
    console.print(f"annualised volatility {document['annual_volatility']:.2%}")
