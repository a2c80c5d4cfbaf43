"""Only events and the read model leave the engine (DESIGN.md): no module outside the engine,
the sequencer and the process that owns them imports the engine's live state or its stages, or
reaches into `<something>.engine.state`. Gateways, projections and workers read `bourse.view`."""

import ast
from pathlib import Path

import bourse

SRC = Path(bourse.__file__).parent
# The engine's live state and the stages that mutate it.
INTERNALS = {"state", "gate", "risk", "cancels", "book", "orders", "placement", "matching"}
INTERNALS |= {"funds", "ledger", "inputs", "order_status", "output"}
ALLOWED = {
    "journal/sequencer.py",  # runs commands through the engine
    "journal/follower.py",  # runs journaled commands through a copy of the engine (audit's)
    "server/exchange.py",  # the engine process: recovery, sequencer, snapshots, the export
    "bench/engine_bench.py",  # measures the engine itself, in memory
    "bench/journal_bench.py",
    "bench/policy_bench.py",  # builds a million-account engine in memory to time a policy
    "bench/banks_bench.py",  # likewise, to time a statement and a bank cut-off preview
}


def _strays(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
            if node.module == "bourse.engine":
                modules += [f"bourse.engine.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        for m in modules:
            parts = m.split(".")
            if parts[:2] == ["bourse", "engine"] and len(parts) > 2 and parts[2] in INTERNALS:
                found.append(f"line {node.lineno}: imports {m}")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "state"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "engine"
        ):
            found.append(f"line {node.lineno}: reaches into the engine's live state")
    return found


def test_nothing_outside_the_engine_reads_its_state() -> None:
    strays = {
        rel: found
        for path in sorted(SRC.rglob("*.py"))
        if (rel := path.relative_to(SRC).as_posix()).split("/")[0] != "engine"
        and rel not in ALLOWED
        and (found := _strays(path))
    }
    assert strays == {}, "read bourse.view (or the service's typed answers) instead:\n" + "\n".join(
        f"  {rel}: {'; '.join(found)}" for rel, found in strays.items()
    )


def test_the_check_sees_an_import_and_a_reach(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from bourse.engine.state import EngineState\n"
        "from bourse.engine import gate\n"
        "x = service.exchange.engine.state\n"
    )
    assert len(_strays(bad)) == 3
