"""The assignment engine: plain data in, a decision out (no Django, no clock, no I/O;
numpy for the candidate columns)."""

from dispatch.engine.pool import CandidatePool
from dispatch.engine.rules import decide
from dispatch.engine.types import (
    CandidateRow,
    CandidateSnapshot,
    Decision,
    HeldSkill,
    Outcome,
    SkillRequirement,
    TaskToPlace,
)

__all__ = [
    "CandidatePool",
    "CandidateRow",
    "CandidateSnapshot",
    "Decision",
    "HeldSkill",
    "Outcome",
    "SkillRequirement",
    "TaskToPlace",
    "decide",
]
