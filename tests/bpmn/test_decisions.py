"""The shipped triage decision tables: every row, through the real chain and the restricted engine."""
from __future__ import annotations

import pytest
from lxml import etree

from portal.bpmn import MAIN_PROCESS_ID, PROCESS_DIR, DiagramInvalidError, Engine, shipped_decisions, shipped_diagrams

DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

TIER_CASES = {  # rule id -> (dispute type, people, amount, expected complexity, expected risk)
    "tier_group": ("0101", 12, 0, "difficult", "high"),
    "tier_title": ("0501", 2, 0, "difficult", "medium"),
    "tier_amount": ("1201", 2, 150000, "difficult", "medium"),
    "tier_labour": ("0701", 6, 0, "complex", "medium"),
    "tier_admin": ("1701", 2, 0, "complex", "medium"),
    "tier_family": ("0201", 2, 5000, "simple", "low"),
    "tier_default": ("0801", 2, 0, "general", "low"),
}
LEAD = {"01": "D03", "02": "D03", "03": "D08", "04": "D09", "05": "D08", "06": "D08", "07": "D06", "08": "D07",
        "09": "D11", "10": "D05", "11": "D10", "12": "D04", "13": "D03", "14": "D07", "15": "D14", "16": "D01",
        "17": "D03", "18": "D04", "19": "D01"}


@pytest.fixture(scope="module")
def engine():
    return Engine()


@pytest.fixture(scope="module")
def spec_json(engine):
    return engine.parse({**shipped_diagrams(), **shipped_decisions()}, MAIN_PROCESS_ID).spec_json


def _proposals(engine, spec_json, dispute_type, people=2, amount=0.0):
    wf = engine.start(spec_json)
    [intake] = engine.ready_user_tasks(wf)
    engine.complete(wf, intake.id, {"dispute_type": dispute_type, "people_count": people, "amount": float(amount),
                                    "township": "T01", "source_channel": "walk_in", "route": "mediation"})
    [triage] = engine.ready_user_tasks(wf)
    assert triage.bpmn_id == "triage"
    return triage.data


def _rule_ids(file_name):
    root = etree.parse(str(PROCESS_DIR / file_name))
    return {r.get("id") for r in root.iterfind(".//dmn:rule", DMN_NS)}


@pytest.mark.parametrize("rule", sorted(TIER_CASES))
def test_every_row_of_the_tier_table(engine, spec_json, rule):
    dtype, people, amount, complexity, risk = TIER_CASES[rule]
    data = _proposals(engine, spec_json, dtype, people, amount)
    assert (data["proposed_complexity"], data["proposed_risk"]) == (complexity, risk)


def test_first_matching_row_wins_and_near_misses_fall_through(engine, spec_json):
    assert _proposals(engine, spec_json, "0701", people=4)["proposed_complexity"] == "general"  # <5 workers
    assert _proposals(engine, spec_json, "0201", amount=10000)["proposed_complexity"] == "general"
    assert _proposals(engine, spec_json, "0501", people=30)["proposed_risk"] == "high"  # group before title


def test_tier_cases_cover_every_row():
    assert set(TIER_CASES) == _rule_ids("triage_tier.dmn")


@pytest.mark.parametrize("level1", sorted(LEAD))
def test_every_row_of_the_lead_table(engine, spec_json, level1):
    assert _proposals(engine, spec_json, f"{level1}01")["proposed_lead"] == LEAD[level1]


def test_lead_table_default_and_coverage(engine, spec_json):
    assert _proposals(engine, spec_json, "9901")["proposed_lead"] == "D01"
    assert _rule_ids("triage_lead.dmn") == {f"lead_{c}" for c in LEAD} | {"lead_default"}


def test_unsafe_decision_table_is_refused_with_its_line(engine):
    dmn = shipped_decisions()["triage_lead.dmn"].replace(b'"D06"', b"__import__('os').getcwd()")
    with pytest.raises(DiagramInvalidError) as err:
        engine.parse({**shipped_diagrams(), **shipped_decisions(), "triage_lead.dmn": dmn}, MAIN_PROCESS_ID)
    [(file_name, line, element, message)] = err.value.problems
    assert file_name == "triage_lead.dmn" and element == "lead_07_out0" and line > 1 and "refused" in message


def test_two_decisions_in_one_file_are_refused(engine):
    dmn = shipped_decisions()["triage_lead.dmn"].replace(
        b"</definitions>", b'<decision id="extra" name="x"><decisionTable id="t2"/></decision></definitions>')
    with pytest.raises(DiagramInvalidError) as err:
        engine.parse({**shipped_diagrams(), **shipped_decisions(), "triage_lead.dmn": dmn}, MAIN_PROCESS_ID)
    assert "exactly one decision" in err.value.problems[0][3]
