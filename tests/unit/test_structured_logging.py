from __future__ import annotations

import io
import json
import logging

from pydantic import SecretStr

from quantdesk.structured_logging import configure_logging, get_logger


def test_json_lines_carry_run_id_for_ours_and_third_party_loggers() -> None:
    stream = io.StringIO()  # not a TTY: "auto" must choose JSON
    run_id = configure_logging("INFO", "auto", run_id="run-abc", stream=stream)

    get_logger("quantdesk.test").info("step.done", rows=3)
    logging.getLogger("some.library").warning("library says %s", "hi")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert run_id == "run-abc"
    assert [line["event"] for line in lines] == ["step.done", "library says hi"]
    assert all(line["run_id"] == "run-abc" for line in lines)
    assert lines[0]["rows"] == 3
    assert lines[1]["level"] == "warning"


def test_secrets_are_masked_in_log_lines() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    get_logger("quantdesk.venue").info(
        "venue.login",
        password="hunter2",
        api_key="key-123",
        secret_value=SecretStr("sv-1"),
        url="postgresql+psycopg://app:pw-9@db:5432/q",
    )

    output = stream.getvalue()
    for secret in ("hunter2", "key-123", "sv-1", "pw-9"):
        assert secret not in output
    assert "postgresql+psycopg://app:***@db:5432/q" in output


def test_level_filters_lower_severity() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", "json", stream=stream)

    get_logger("t").info("hidden")
    get_logger("t").warning("shown")

    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == ["shown"]


def test_third_party_info_is_dropped_while_ours_is_kept() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    logging.getLogger("great_expectations.core").info("chatter")
    logging.getLogger("great_expectations.core").warning("a real problem")
    get_logger("quantdesk.pipelines").info("step.done")

    events = [json.loads(x)["event"] for x in stream.getvalue().splitlines()]
    assert events == ["a real problem", "step.done"]
