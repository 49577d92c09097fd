"""What every command shares: the settings of this run and the console it prints to."""

from __future__ import annotations

from rich.console import Console

from quantdesk.config import Settings, load_settings

console = Console()


class _State:
    settings: Settings | None = None


state = _State()


def current_settings() -> Settings:
    """The settings the root callback loaded (or fresh ones when a command runs alone)."""
    if state.settings is None:
        state.settings = load_settings()
    return state.settings
