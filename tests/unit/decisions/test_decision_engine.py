"""Each rule of the decision engine, and their precedence."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantdesk.config import DecisionSettings, load_settings
from quantdesk.decisions.engine import RL_MODEL_KEY, DecisionEngine, DecisionInputs
from quantdesk.decisions.feature_hash import feature_vector_hash
from quantdesk.decisions.rules import (
    BlackoutWindow,
    DecisionContext,
    DecisionReason,
    ManualOverride,
)
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Decision, Signal
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.risk.trading_state import TradingState

AT = datetime(2026, 4, 1, 20, 0, tzinfo=UTC)
# 1% daily volatility -> 15.87% a year; with a 10% target the volatility size is 0.63.
SETTINGS = DecisionSettings(
    min_confidence=0.45, max_uncertainty=0.5, target_volatility=0.10, kelly_fraction=0.5,
    max_abs_weight=1.0, ml_blend=0.5, bars_per_year=252,
)  # fmt: skip
ENGINE = DecisionEngine(SETTINGS)
VOL_SIZE = 0.10 / (0.01 * math.sqrt(252))
ACTIVE = DecisionContext()


def signal(
    up: float = 0.7, down: float = 0.1, expected_return: float = 0.01, uncertainty: float = 0.0
) -> Signal:
    return Signal(
        symbol="AAPL", as_of=AT, model_name="hybrid", model_version="7", horizon_bars=1,
        prob_down=down, prob_flat=1 - up - down, prob_up=up,
        expected_return=expected_return, uncertainty=uncertainty,
    )  # fmt: skip


def inputs(
    sig: Signal | None = None, rl: float | None = None, current: float = 0.2
) -> DecisionInputs:
    return DecisionInputs(
        symbol="AAPL", as_of=AT, bar_volatility=0.01, current_weight=current, signal=sig,
        rl_target_weight=rl, rl_model_version="ens-3", features={"rsi_14": 55.0, "ret_1": 0.01},
    )  # fmt: skip


def codes(decision: Decision) -> list[str]:
    return [r.split(":")[0] for r in decision.reasons]


def test_decide_strong_signal_is_sized_by_volatility_target() -> None:
    decision = ENGINE.decide(inputs(signal()), ACTIVE)

    # Kelly: 0.5 * 0.01 / 0.0001 = 50, far above the volatility size.
    assert decision.target_weight == pytest.approx(VOL_SIZE)
    assert codes(decision) == [DecisionReason.MODEL_SIGNAL]
    assert decision.contributions["ml"] == pytest.approx(VOL_SIZE)
    assert decision.model_versions == {"hybrid": "7"}
    assert decision.feature_hash == feature_vector_hash({"ret_1": 0.01, "rsi_14": 55.0})


def test_decide_down_signal_goes_short() -> None:
    decision = ENGINE.decide(inputs(signal(up=0.1, down=0.7, expected_return=-0.01)), ACTIVE)

    assert decision.target_weight == pytest.approx(-VOL_SIZE)


def test_decide_uncertainty_scales_size_down_linearly() -> None:
    decision = ENGINE.decide(inputs(signal(uncertainty=0.25)), ACTIVE)

    assert decision.target_weight == pytest.approx(VOL_SIZE * 0.5)
    assert decision.contributions["uncertainty_scale"] == pytest.approx(0.5)


def test_decide_small_edge_is_capped_by_fractional_kelly() -> None:
    decision = ENGINE.decide(inputs(signal(expected_return=0.00002)), ACTIVE)

    assert decision.target_weight == pytest.approx(0.5 * 0.00002 / 0.0001)
    assert "kelly-capped" in decision.reasons[0]


def test_decide_expected_return_against_direction_gets_no_size() -> None:
    decision = ENGINE.decide(inputs(signal(expected_return=-0.01)), ACTIVE)

    assert decision.target_weight == 0.0


def test_decide_low_confidence_drops_the_signal_and_goes_flat() -> None:
    decision = ENGINE.decide(inputs(signal(up=0.4, down=0.3)), ACTIVE)

    assert decision.target_weight == 0.0
    assert codes(decision) == [DecisionReason.LOW_CONFIDENCE, DecisionReason.NO_USABLE_SIGNAL]


def test_decide_high_uncertainty_drops_the_signal_but_keeps_rl() -> None:
    decision = ENGINE.decide(inputs(signal(uncertainty=0.6), rl=-0.3), ACTIVE)

    assert decision.target_weight == pytest.approx(-0.3)
    assert codes(decision) == [DecisionReason.HIGH_UNCERTAINTY, DecisionReason.RL_TARGET]
    assert decision.model_versions == {"hybrid": "7", RL_MODEL_KEY: "ens-3"}


def test_decide_blends_model_and_rl_with_contributions() -> None:
    decision = ENGINE.decide(inputs(signal(), rl=0.1), ACTIVE)

    assert decision.contributions["ml"] == pytest.approx(0.5 * VOL_SIZE)
    assert decision.contributions["rl"] == pytest.approx(0.05)
    assert decision.target_weight == pytest.approx(0.5 * VOL_SIZE + 0.05)


def test_decide_caps_the_absolute_weight() -> None:
    engine = DecisionEngine(SETTINGS.model_copy(update={"max_abs_weight": 0.25}))

    decision = engine.decide(inputs(rl=-0.9), ACTIVE)

    assert decision.target_weight == -0.25
    assert codes(decision)[-1] == DecisionReason.CAPPED_MAX_WEIGHT


def test_decide_halted_holds_current_weight_over_everything() -> None:
    context = DecisionContext(
        trading_state=TradingState.HALTED,
        restricted_symbols=frozenset({"AAPL"}),
        overrides={"AAPL": ManualOverride("AAPL", 0.0, "alice", "flatten")},
    )

    decision = ENGINE.decide(inputs(signal(), rl=0.9, current=0.2), context)

    assert decision.target_weight == 0.2
    assert codes(decision) == [DecisionReason.KILL_SWITCH_HALTED]


@pytest.mark.parametrize(
    ("context", "code"),
    [
        (DecisionContext(halted_symbols=frozenset({"AAPL"})), DecisionReason.INSTRUMENT_HALTED),
        (DecisionContext(restricted_symbols=frozenset({"AAPL"})),
         DecisionReason.INSTRUMENT_RESTRICTED),
        (DecisionContext(blackouts=(BlackoutWindow(AT - timedelta(hours=1),
                                                   AT + timedelta(hours=1), "earnings",
                                                   frozenset({"AAPL"})),)),
         DecisionReason.BLACKOUT),
    ],
)  # fmt: skip
def test_decide_instrument_rules_hold_current_and_beat_overrides(
    context: DecisionContext, code: DecisionReason
) -> None:
    with_override = DecisionContext(
        trading_state=context.trading_state, restricted_symbols=context.restricted_symbols,
        halted_symbols=context.halted_symbols, blackouts=context.blackouts,
        overrides={"AAPL": ManualOverride("AAPL", 0.5, "alice", "conviction")},
    )  # fmt: skip

    decision = ENGINE.decide(inputs(signal(), current=-0.1), with_override)

    assert decision.target_weight == -0.1
    assert codes(decision) == [code]


def test_decide_blackout_for_other_symbol_or_time_does_not_apply() -> None:
    elsewhere = BlackoutWindow(AT - timedelta(hours=1), AT + timedelta(hours=1), "x",
                               frozenset({"MSFT"}))  # fmt: skip
    earlier = BlackoutWindow(AT - timedelta(hours=2), AT, "ended at AT")

    decision = ENGINE.decide(inputs(signal()), DecisionContext(blackouts=(elsewhere, earlier)))

    assert codes(decision) == [DecisionReason.MODEL_SIGNAL]


def test_decide_manual_override_beats_models_and_records_who() -> None:
    context = DecisionContext(overrides={"AAPL": ManualOverride("AAPL", -0.05, "bob", "news")})

    decision = ENGINE.decide(inputs(signal(), rl=0.5), context)

    assert decision.target_weight == -0.05
    assert codes(decision) == [DecisionReason.MANUAL_OVERRIDE]
    assert "bob" in decision.reasons[0]
    assert decision.contributions["manual"] == -0.05


def test_decide_expired_override_is_ignored() -> None:
    stale = ManualOverride("AAPL", -0.05, "bob", "news", expires_at=AT)

    decision = ENGINE.decide(inputs(rl=0.3), DecisionContext(overrides={"AAPL": stale}))

    assert decision.target_weight == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("current", "wanted", "expected"),
    [(0.2, 0.5, 0.2), (0.2, 0.1, 0.1), (0.2, -0.3, 0.0), (-0.2, -0.5, -0.2), (0.0, 0.3, 0.0)],
)
def test_decide_reducing_state_only_shrinks_exposure(
    current: float, wanted: float, expected: float
) -> None:
    context = DecisionContext(trading_state=TradingState.REDUCING)

    decision = ENGINE.decide(inputs(rl=wanted, current=current), context)

    assert decision.target_weight == pytest.approx(expected)
    assert abs(decision.target_weight) <= abs(current)


def test_decide_reducing_state_clamps_manual_override_too() -> None:
    context = DecisionContext(
        trading_state=TradingState.REDUCING,
        overrides={"AAPL": ManualOverride("AAPL", 0.9, "carol", "add")},
    )

    decision = ENGINE.decide(inputs(current=0.2), context)

    assert decision.target_weight == 0.2
    assert codes(decision) == [DecisionReason.MANUAL_OVERRIDE, DecisionReason.REDUCE_ONLY]


def test_decide_is_deterministic_and_ids_depend_on_features() -> None:
    first = ENGINE.decide(inputs(signal()), ACTIVE)
    again = ENGINE.decide(inputs(signal()), ACTIVE)
    other = DecisionInputs(symbol="AAPL", as_of=AT, bar_volatility=0.01, current_weight=0.2,
                           signal=signal(), features={"rsi_14": 56.0})  # fmt: skip

    assert first == again
    assert ENGINE.decide(other, ACTIVE).decision_id != first.decision_id


def test_decision_inputs_signal_for_another_symbol_raises() -> None:
    with pytest.raises(InvalidInputError, match="given for MSFT"):
        DecisionInputs(symbol="MSFT", as_of=AT, bar_volatility=0.01, signal=signal())


def test_decision_context_from_settings_reads_switch_and_restricted_list(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, risk={"restricted_symbols": ("MSFT",)})
    KillSwitch.from_settings(settings).reduce_only(reason="drill", actor="ops")

    context = DecisionContext.from_settings(settings)

    assert context.trading_state is TradingState.REDUCING
    assert context.restricted_symbols == frozenset({"MSFT"})
