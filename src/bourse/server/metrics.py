"""Prometheus metrics of one process (prometheus-client), served at `/metrics`.

Counted on the command path: commands by type and result, and the time from submission to the
durable answer. Read when scraped, never on the hot path: sequence numbers, how far each
consumer lags behind what was released, WebSocket subscribers and their queues. Each process
keeps its own registry, so several servers in one test process do not collide.
"""

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from bourse.events import Outcome

# Answers take from well under a millisecond (an fsync batch shared by many) to seconds (a
# policy sweeping a large country): buckets in seconds that resolve both ends.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

Gauges = Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]


class Metrics:
    def __init__(self, process: Callable[[], str] = lambda: "server") -> None:
        """`process()`: which process of the exchange these are (the gauge bourse_process)."""
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "bourse_commands",
            "Commands sequenced, by type and by whether the engine accepted or refused them",
            ["command", "result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bourse_command_seconds",
            "Seconds from a command's submission to its durable answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, bool], Counter] = {}
        self._sources: list[Gauges] = [
            lambda: [
                (
                    "bourse_process",
                    "Which process of the exchange this is",
                    {"process": process()},
                    1,
                )
            ]
        ]
        self.registry.register(self)  # type: ignore[arg-type]  # collect() below

    def answered(self, outcome: Outcome, seconds: float) -> None:
        """Once per command, on the hot path: the labelled child is looked up once per kind."""
        key = (outcome.command, outcome.refused)
        child = self._children.get(key)
        if child is None:
            result = "refused" if key[1] else "accepted"
            child = self._children[key] = self.commands.labels(outcome.command, result)
        child.inc()
        self.latency.observe(seconds)

    def add_gauges(self, source: Gauges) -> None:
        """`source()` yields (name, help, labels, value) whenever Prometheus scrapes."""
        self._sources.append(source)

    def collect(self) -> Iterable[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for source in self._sources:
            for name, text, labels, value in source():
                family = families.get(name)
                if family is None:
                    family = families[name] = GaugeMetricFamily(name, text, labels=list(labels))
                family.add_metric(list(labels.values()), value)
        return families.values()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
