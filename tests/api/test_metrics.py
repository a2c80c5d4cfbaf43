"""/metrics: what an operator's Prometheus scrapes from each process; and JSON log lines."""

import json
import logging
import sys

from prometheus_client.parser import text_string_to_metric_families

from bourse.server.logs import JsonFormatter
from tests.api.conftest import Api


def _samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = api.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def test_metrics_count_commands_latency_sequence_numbers_and_consumer_lag(api: Api) -> None:
    before = _samples(api)
    accepted = ("bourse_commands_total", (("command", "PlaceOrder"), ("result", "accepted")))
    refused = ("bourse_commands_total", (("command", "PlaceOrder"), ("result", "refused")))
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    assert api.signed("POST", "/api/v3/order", **order, price="50000", quantity="0.001").is_success
    too_much = api.signed("POST", "/api/v3/order", **order, price="50000", quantity="9000")
    assert too_much.status_code == 400
    after = _samples(api)
    assert after[accepted] == before.get(accepted, 0) + 1
    assert after[refused] == before.get(refused, 0) + 1
    answered = ("bourse_command_seconds_count", ())
    assert after[answered] >= before.get(answered, 0) + 2
    released = after[("bourse_seq", (("stage", "released"),))]
    assert released == after[("bourse_seq", (("stage", "engine"),))] == api.service.view.last_seq
    assert after[("bourse_seq", (("stage", "journal"),))] >= released
    assert after[("bourse_consumer_lag_commands", (("consumer", "sql"),))] >= 0
    assert after[("bourse_stream_subscribers", ())] == 0
    assert after[("bourse_engine_stopped", ())] == 0


def test_json_logs_are_one_object_per_line_with_the_traceback() -> None:
    try:
        raise ValueError("a bad day")
    except ValueError:
        record = logging.LogRecord(
            "bourse.x", logging.ERROR, __file__, 1, "failed on %s", ("seq 7",), sys.exc_info()
        )
    line = JsonFormatter("gateway-2").format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["message"] == "failed on seq 7"
    assert entry["process"] == "gateway-2" and entry["logger"] == "bourse.x"
    assert "ValueError: a bad day" in entry["error"] and entry["time"].endswith("+00:00")
