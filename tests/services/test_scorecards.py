"""考核: the units' scorecards over a hand-built March, worked out here case by case.

司法局 (D03), 城关镇 (T01, with its village 文庙社区 T01V02) and 人社局 (D06) get cases driven through the
services at known times (registered Monday 2 March 2026, 09:00; a general case is due by the end of
5 March), so which case is on time, successful, satisfied, returned or carded is known in advance.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent, CardLevel, OrgUnit, PortalSetting
from portal.services.cases import complete_task, register_case
from portal.services.errors import ValidationFailed
from portal.services.scorecards import (
    Period,
    Scorecard,
    UnitKind,
    Weights,
    parse_period,
    ranked,
    unit_scorecards,
)
from portal.services.settings import get_setting, set_setting
from portal.services.supervision import raise_card
from tests.conftest import STEP_FORMS, do_step, intake_data, open_item, record_session, unit_id, user

T0 = datetime(2026, 3, 2, 1, 0)      # Monday 2 March 2026, 09:00 in the county
LATE = T0 + timedelta(days=5)        # after the general tier's three days
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
SCENE = {"place": "二组村道", "attendees": "网格员 陈七"}


def _handle(case_id, handler, at, **handle):
    with frozen_at(at):
        complete_task(user(handler), open_item(case_id, "handle").id, {**STEP_FORMS["handle"][1](), **handle})
        complete_task(user(handler), open_item(case_id, "feedback").id, STEP_FORMS["feedback"][1]())


def case_of(unit_code, handler, *, at=T0, mode="in_center", tier="general", close_at=None,
            result="written_agreement", satisfaction="satisfied", verify_fail=False, refused_by=None, until=None,
            handle=None, **intake):
    """A case registered at ``at``, triaged to ``tier``, dispatched to ``unit_code`` (after ``refused_by`` =
    (unit, user) refused it), then handled and closed at ``close_at`` (default: the same time), unless
    ``until`` ("handle": left there)."""
    with frozen_at(at):
        case_id = register_case(user("window"), intake_data(**intake)).id
        do_step(case_id, "triage", resolution_mode=mode, complexity=tier)
        if refused_by:
            do_step(case_id, "dispatch", assigned_unit_id=unit_id(refused_by[0]))
            complete_task(user(refused_by[1]), open_item(case_id, "accept").id,
                          {"accepted": "no", "reason": "不属本单位职责"})
            do_step(case_id, "triage", resolution_mode=mode, complexity=tier)
        do_step(case_id, "dispatch", assigned_unit_id=unit_id(unit_code))
        complete_task(user(handler), open_item(case_id, "accept").id, {"accepted": "yes", "reason": ""})
        record_session(case_id, handler, **(SCENE if mode == "on_site" else {}))
    if until == "handle":
        return case_id
    close_at = close_at or at
    extra = {"next_channel": "当事人可向人民法院起诉"} if result == "terminated" else {}
    extra.update(handle or {})
    _handle(case_id, handler, close_at, result=result, **extra)
    with frozen_at(close_at):
        do_step(case_id, "followup", applicant_satisfaction=satisfaction)
        if verify_fail:
            do_step(case_id, "verify", passed="no", opinion="回访记录不完整，退回补充")
            _handle(case_id, handler, close_at, result=result, **extra)
            do_step(case_id, "followup", applicant_satisfaction=satisfaction)
        do_step(case_id, "verify")
        do_step(case_id, "close")
    return case_id


@pytest.fixture
def march(ctx):
    return build_march()


def build_march() -> dict[str, int]:
    """司法局: a1 on time and agreed (satisfied); a2 late, terminated, dissatisfied, sent back once by the
    verifier; a3 refused by 人社局 first, then at 司法局 still being handled, with a red card.
    城关镇: b1 handled by the township itself, on time, oral agreement (basically satisfied); b2 by its village
    文庙社区, on time, agreed, the applicant unreachable, with a yellow card while it was handled.
    东城街道 (T02): d1 at 司法局, on time, agreed, satisfied (the township staff of 城关镇 do not see it).
    February: one case at 司法局 that March does not count."""
    t02 = unit_id("T02")
    cases = {
        "a1": case_of("D03", "sifa"),
        "a2": case_of("D03", "sifa", close_at=LATE, result="terminated", satisfaction="dissatisfied",
                      verify_fail=True),
        "a3": case_of("D03", "sifa", refused_by=("D06", "renshe"), until="handle"),
        "b1": case_of("T01", "xiang", mode="on_site", result="oral_agreement", satisfaction="basically"),
        "b2": case_of("T01V02", "cun", mode="on_site", until="handle"),
        "d1": case_of("D03", "sifa", township_id=t02, village_id=None, title="东城街道劳务纠纷"),
        "feb": case_of("D03", "sifa", at=T0 - timedelta(days=20)),
    }
    with frozen_at(T0 + timedelta(hours=2)):
        raise_card(user("director"), cases["a3"], "red", "群众反映久拖不决")
        raise_card(user("director"), cases["b2"], "yellow", "请加快调处")
    _handle(cases["b2"], "cun", T0 + timedelta(hours=3), agreement_no="(2026)示人调字第2号")
    with frozen_at(T0 + timedelta(hours=3)):
        do_step(cases["b2"], "followup", applicant_satisfaction="unreachable")
        do_step(cases["b2"], "verify")
        do_step(cases["b2"], "close")
    return cases


def _by_code(cards):
    return {c.code: c for c in cards}


def _figures(c: Scorecard):
    return (c.cases, c.closed, c.on_time, c.success, c.rated, c.satisfied, c.verify_returns, c.refusals,
            c.cards[CardLevel.NORMAL], c.cards[CardLevel.YELLOW], c.cards[CardLevel.RED])


def test_figures_score_and_ranking_of_a_hand_built_march(march):
    cards = unit_scorecards(user("director"), MARCH)
    assert [(c.rank, c.code) for c in cards] == [(1, "T01"), (2, "D03"), (3, "D06")]
    by = _by_code(cards)
    #                            cases closed on-time success rated satisfied verify refused  cards N Y R
    assert _figures(by["D03"]) == (4, 3, 2, 2, 3, 2, 1, 0, 0, 0, 1)   # a1 a2 a3 d1
    assert _figures(by["T01"]) == (2, 2, 2, 2, 1, 1, 0, 0, 0, 1, 0)   # b1 b2 (its village's)
    assert _figures(by["D06"]) == (0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0)   # refused a3
    d03 = by["D03"]
    assert (d03.closure_rate.numerator, d03.closure_rate.denominator) == (3, 4)
    assert (d03.on_time_rate.numerator, d03.on_time_rate.denominator) == (2, 3)
    # default weights: closure 10, on time 40, success 30, satisfaction 20; −2 a return, −1/−3/−5 a card
    assert d03.score == Decimal("60.50")            # 10×3/4 + (40+30+20)×2/3 − 2×1 − 5×1 = 67.5 − 7
    assert by["T01"].score == Decimal("97.00")      # every rate 100% − 3 for the yellow card
    assert by["D06"].score == Decimal("-2.00")      # nothing to rate; one refusal
    assert "S01" not in by and "D04" not in by       # units without cases are left out


def test_a_township_sees_the_scorecards_of_its_own_cases_only(march):
    by = _by_code(unit_scorecards(user("xiang"), MARCH))
    assert _figures(by["D03"]) == (3, 2, 1, 1, 2, 1, 1, 0, 0, 0, 1)   # d1 lies in 东城街道
    # 10×2/3 + 40×1/2 + 30×1/2 + 20×1/2 − 7 = 44.666…
    assert by["D03"].score == Decimal("44.67")
    by = _by_code(unit_scorecards(user("renshe"), MARCH))            # 人社局 saw a3 only: it refused it
    assert set(by) == {"D03", "D06"} and by["D03"].cases == 1 and by["D06"].refusals == 1


def test_the_period_and_the_kind_of_unit_narrow_the_table(march):
    assert _by_code(unit_scorecards(user("director"), Period(date(2026, 2, 1), date(2026, 2, 28))))["D03"].cases == 1
    # a case registered at 00:30 on 1 April in the county (16:30 UTC on 31 March) belongs to April
    with frozen_at(datetime(2026, 3, 31, 16, 30)):
        case_of("D03", "sifa", at=datetime(2026, 3, 31, 16, 30), until="handle")
    assert _by_code(unit_scorecards(user("director"), MARCH))["D03"].cases == 4
    assert _by_code(unit_scorecards(user("director"), Period.month(2026, 4)))["D03"].cases == 1
    assert [c.code for c in unit_scorecards(user("director"), MARCH, UnitKind.TOWNSHIP)] == ["T01"]
    assert [c.code for c in unit_scorecards(user("director"), MARCH, UnitKind.DEPARTMENT)] == ["D03", "D06"]
    assert unit_scorecards(user("director"), MARCH, UnitKind.MEDIATION) == []


def test_the_weights_an_administrator_sets_change_the_ranking(march):
    saved = {k: str(get_setting(k)) for k in ("score_deduct_card_yellow", "score_weight_on_time")}
    try:
        set_setting(user("admin"), "score_deduct_card_yellow", "50")
        cards = unit_scorecards(user("director"), MARCH)
        assert [(c.code, c.score) for c in cards] == [("D03", Decimal("60.50")), ("T01", Decimal("50.00")),
                                                      ("D06", Decimal("-2.00"))]
        set_setting(user("admin"), "score_weight_on_time", "0")   # the weights need not add up to 100
        d03 = _by_code(unit_scorecards(user("director"), MARCH))["D03"]
        # (10×3/4 + 30×2/3 + 20×2/3) = 40.8333… − 7
        assert d03.score == Decimal("33.83")
    finally:
        for key, value in saved.items():
            set_setting(user("admin"), key, value)


def test_a_tie_goes_to_more_cases_then_to_the_unit_code(ctx):
    weights = Weights(*(Decimal(w) for w in ("10", "40", "30", "20", "2")), dict.fromkeys(CardLevel, Decimal(1)))

    def perfect(n):
        return {"cases": n, "closed": n, "on_time": n, "success": n, "rated": n, "satisfied": n}
    units = [Scorecard(1, "D09", "b", None, **perfect(2)), Scorecard(2, "D02", "a", None, **perfect(2)),
             Scorecard(3, "D05", "c", None, **perfect(3)), Scorecard(4, "D01", "d", None, cases=9, closed=1)]
    for card in units:
        card.score = card.score_with(weights)
    # D01: 10 × 1/9 (on time and success 0/1), nobody rated: scaled by 100/80
    assert [c.score for c in units] == [Decimal("100.00")] * 3 + [Decimal("1.39")]
    assert [(c.rank, c.code) for c in ranked(units)] == [(1, "D05"), (2, "D02"), (3, "D09"), (4, "D01")]


def test_a_rate_with_nothing_to_count_is_left_out_and_the_others_scaled_up(ctx):
    weights = Weights(Decimal(10), Decimal(40), Decimal(30), Decimal(20), Decimal(2),
                      {CardLevel.NORMAL: Decimal(1), CardLevel.YELLOW: Decimal(3), CardLevel.RED: Decimal(5)})
    # two cases, none closed yet, one applicant satisfied: closure 0/2 and satisfaction 1/1 count
    card = Scorecard(1, "X", "x", None, cases=2, rated=1, satisfied=1, cards={**dict.fromkeys(CardLevel, 0),
                                                                                CardLevel.NORMAL: 2})
    assert card.score_with(weights) == Decimal("64.67")   # (10×0 + 20×1) × 100 / 30 − 2


@pytest.mark.parametrize("key,value", [("score_weight_success", "-5"), ("score_weight_success", "abc"),
                                       ("score_weight_success", "100.5"), ("score_deduct_card_red", "1.005"),
                                       ("score_deduct_return", "")])
def test_bad_weights_are_refused_and_nothing_is_saved(ctx, key, value):
    before = (db.session.scalar(select(func.count()).select_from(PortalSetting)),
              db.session.scalar(select(func.count()).select_from(AuditEvent)), get_setting(key))
    with pytest.raises(ValidationFailed):
        set_setting(user("admin"), key, value)
    assert (db.session.scalar(select(func.count()).select_from(PortalSetting)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)), get_setting(key)) == before


def test_the_rates_cannot_all_weigh_nothing(ctx):
    keys = ("score_weight_closed", "score_weight_on_time", "score_weight_success", "score_weight_satisfaction")
    saved = {k: str(get_setting(k)) for k in keys}
    try:
        for key in keys[:3]:
            set_setting(user("admin"), key, "0")
        rows = db.session.scalar(select(func.count()).select_from(PortalSetting))
        with pytest.raises(ValidationFailed) as refused:
            set_setting(user("admin"), "score_weight_satisfaction", "0")
        assert "权重" in str(refused.value) or "weight" in str(refused.value)
        assert get_setting("score_weight_satisfaction") == Decimal(saved["score_weight_satisfaction"])
        assert db.session.scalar(select(func.count()).select_from(PortalSetting)) == rows
    finally:
        for key, value in saved.items():
            set_setting(user("admin"), key, value)


def test_a_period_is_read_from_the_page_and_refused_when_backwards(ctx):
    assert parse_period("2026-03-01", "2026-03-31") == MARCH
    with pytest.raises(ValidationFailed):
        parse_period("2026-03-31", "2026-03-01")
    with pytest.raises(ValidationFailed):
        parse_period("31/03/2026", None)


def test_a_village_committee_counts_with_its_township(ctx):
    assert db.session.scalar(select(OrgUnit.kind).where(OrgUnit.code == "T01V02C")).value == "committee"
    case_of("T01V02C", "cun", mode="at_home",
            handle={"agreement_no": "(2026)示人调字第1号", "case_source": "application"})
    by = _by_code(unit_scorecards(user("director"), MARCH))
    assert set(by) == {"T01"} and by["T01"].cases == 1 and by["T01"].closed == 1
