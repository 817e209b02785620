"""The steps of the branches of a case, one module per kind, keyed by BPMN form key.

Each kind's module gives ``APPLY_KEY`` (the form key of its first step, the application),
``START_LANES`` (the lanes whose staff may start it from the case page), ``start_data(case)``
(what its workflow starts with: the units its lanes go to) and ``STEPS``.
"""
from __future__ import annotations

from portal.models import BranchKind, Case
from portal.services.aid import common, judicial_aid, legal_aid, relief, risk
from portal.services.queries import center_id

MODULES = {BranchKind.RELIEF: relief, BranchKind.LEGAL_AID: legal_aid, BranchKind.JUDICIAL_AID: judicial_aid,
           BranchKind.RISK: risk}
BRANCH_STEPS = {**common.STEPS, **relief.STEPS, **legal_aid.STEPS, **judicial_aid.STEPS, **risk.STEPS}
APPLY_KEYS = {m.APPLY_KEY for m in MODULES.values()}
START_LANES = {kind: m.START_LANES for kind, m in MODULES.items()}


def start_data(case: Case, kind: BranchKind) -> dict:
    """The units a branch's lanes go to: the case's township, the center, and the kind's offices."""
    return {"township_unit": case.township_id, "center_unit": center_id(), **MODULES[kind].start_data(case)}
