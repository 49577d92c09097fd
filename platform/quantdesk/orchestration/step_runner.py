"""Run one batch step by its ``module:function`` path with string parameters.

The DAG (in the worker) and ``quantdesk step run`` (in a pod) both come here, so a step runs
the same way on both paths. Parameters arrive as strings (rendered Jinja templates or CLI
``key=value``) and are converted by the step function's type hints; the summary it returns is
turned into a JSON-safe dict for XCom and logs.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from quantdesk.config import Settings, load_settings
from quantdesk.domain.errors import InvalidInputError

StepFunction = Callable[..., Any]

# Only our own pipelines may be run by name: a template or CLI argument never imports more.
ALLOWED_PREFIX = "quantdesk.pipelines."


def resolve_step(target: str) -> StepFunction:
    """The function named by ``quantdesk.pipelines.<module>:<function>``."""
    module_name, _, function_name = target.partition(":")
    if not module_name.startswith(ALLOWED_PREFIX) or not function_name.isidentifier():
        raise InvalidInputError(
            f"step must be named quantdesk.pipelines.<module>:<function>, got {target!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise InvalidInputError(f"no pipeline module {module_name!r}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise InvalidInputError(f"{module_name} has no step function {function_name!r}")
    return typing.cast(StepFunction, function)


def _convert(text: str, annotation: Any, name: str) -> Any:
    """One string converted to the first type of ``annotation`` it fits."""
    options = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    if type(None) in options and text.strip().lower() in ("", "none", "null"):
        return None
    for option in options:
        converted = _try_convert(text, option)
        if converted is not _NO:
            return converted
    raise InvalidInputError(f"step parameter {name}={text!r} is not a valid {annotation}")


_NO = object()


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _try_convert(text: str, option: Any) -> Any:
    if typing.get_origin(option) in (list, tuple, Sequence) and typing.get_args(option)[:1] == (
        str,
    ):
        return [part.strip() for part in text.split(",") if part.strip()]
    converters: dict[Any, Callable[[str], Any]] = {
        datetime: datetime.fromisoformat,
        date: date.fromisoformat,
        bool: _parse_bool,
        int: int,
        float: float,
        Path: Path,
        str: str,
    }
    converter = converters.get(option)
    if converter is None:
        return _NO
    try:
        value = converter(text)
    except ValueError:
        return _NO
    if isinstance(value, datetime) and value.tzinfo is None:
        return _NO  # naive times are never guessed
    return value


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(text)


def convert_params(function: StepFunction, params: Mapping[str, str]) -> dict[str, Any]:
    """Map string ``params`` onto ``function``'s keyword parameters (after ``settings``)."""
    hints = typing.get_type_hints(function)
    accepted = [p for p in inspect.signature(function).parameters if p != "settings"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidInputError(f"step does not take parameter(s) {unknown}; it takes {accepted}")
    return {name: _convert(value, hints.get(name, str), name) for name, value in params.items()}


def to_jsonable(value: Any) -> Any:
    """A summary (frozen dataclass, enums, dates, paths, tuples) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf, and Airflow's API refuses them in XCom
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def run_step(
    target: str, params: Mapping[str, str] | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """Run the step ``target`` with ``params``; returns its summary as JSON data."""
    function = resolve_step(target)
    kwargs = convert_params(function, params or {})
    result = function(settings if settings is not None else load_settings(), **kwargs)
    data = to_jsonable(result)
    summary: dict[str, Any] = data if isinstance(data, dict) else {"result": data}
    json.dumps(summary, allow_nan=False)  # fail here, not in XCom, if something slipped through
    return summary
