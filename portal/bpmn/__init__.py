"""The engine facade and the shipped diagrams. The only package that imports SpiffWorkflow."""
from pathlib import Path

from portal.bpmn.diagrams import (
    DiagramDiff,
    called_decisions,
    decision_ids,
    diagram_diff,
    form_keys,
    from_camunda,
)
from portal.bpmn.durations import iso_duration
from portal.bpmn.engine import Engine, ParsedProcess, ReadyTask, UserTaskSpec
from portal.bpmn.errors import (
    DiagramInvalidError,
    EngineError,
    Message,
    Problem,
    TaskNotReadyError,
    UnsafeExpressionError,
)
from portal.bpmn.outline import DeclaredTask, Outline, outline_diagram
from portal.bpmn.versions import BlockedTask, MigrationCheck, MigrationRefusedError

PROCESS_DIR = Path(__file__).parent / "processes"
MAIN_PROCESS_ID = "mediation_chain"


def shipped_diagrams() -> dict[str, bytes]:
    """The BPMN diagrams the portal ships, by file name."""
    return {p.name: p.read_bytes() for p in sorted(PROCESS_DIR.glob("*.bpmn"))}


def shipped_decisions() -> dict[str, bytes]:
    """The DMN decision tables the portal ships, by file name (one decision per file)."""
    return {p.name: p.read_bytes() for p in sorted(PROCESS_DIR.glob("*.dmn"))}


__all__ = ["BlockedTask", "MigrationCheck", "MigrationRefusedError",
           "Engine", "ParsedProcess", "ReadyTask", "UserTaskSpec", "DiagramInvalidError", "EngineError",
           "TaskNotReadyError", "UnsafeExpressionError", "PROCESS_DIR", "iso_duration", "MAIN_PROCESS_ID",
           "shipped_diagrams", "shipped_decisions", "DiagramDiff", "called_decisions", "decision_ids", "diagram_diff",
           "form_keys", "from_camunda", "Message", "Problem", "DeclaredTask", "Outline", "outline_diagram"]
