"""The county's figures against a small county worked out by hand.

Eleven cases are driven through the services at set times (registered, each step ten minutes apart,
closed a set number of days after registration), with supervision cards, judicial aid paid and a
social service, this year and last. "Now" is 2026-06-30 12:00 in the county, so the default period
is 2026-01-01..2026-06-30 and a year earlier 2025-01-01..2025-06-30.

    case  township  registered   unit (level)      how it ended              closed   deadline   rated
    A     T01       2026-03-02   司法局 (county)    written agreement        +2 d     3 d: kept  satisfied
    B     T01       2026-03-10   文庙社区 (village)  oral agreement (0201)    +1 d     kept       basically
    C     T01       2026-04-13   城关镇 (township)  mediation terminated     +5 d     missed     dissatisfied
    D     T02       2026-04-10   法院 (county)      pre-filing: agreement    +2 d     kept       satisfied
    E     T01       2026-05-04   法院 (county)      pre-filing: failed, filed +1 d    kept       --
    F     T01       2026-06-01   司法局             open at handling, past its deadline, a card open
    G     T02       2026-06-29   --                 open at triage (no deadline yet)
    H     T01       2025-04-01   司法局 (county)    written agreement        +10 d    missed     satisfied
    I     T01       2025-12-20   司法局 (county)    written agreement        +16 d    10 d: missed satisfied
    J     T01       2026-02-02   -- (referred to the court at intake)        +1 d     7 d: kept  --
    K     T01       2026-06-15   --                 open at triage

B is the only 0201 (level 1: 02) case and the only phone call; D came from the court. A, F and K
have the same applicant (F and K are repeat petitions); G's applicant is H's (a year apart: not a
repeat within the period). A deadline falling on a day off moves to the next working day (H's: from
2025-04-04, 清明, to 04-07). Cards: C (2026-04-17, withdrawn at closing), F (2026-06-05, open), H
(2025-04-06). Judicial aid paid: 45,000 on A (2026-03), 30,000 on H (2025-04). Services: 3
person-times on D (2026-04), 2 on H (2025-04).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, DisputeType
from portal.services.branches import start_branch
from portal.services.cases import PartyData, complete_task, register_case
from portal.services.kpis import KPIS, KpiFilters, UnknownFigureError, cases_behind, figures
from portal.services.referrals import ServiceData, record_service
from portal.services.supervision import raise_card
from tests.branches import test_judicial_aid as aid
from tests.conftest import AGREEMENT, intake_data, open_item, record_session, unit_id, user

NOW = datetime(2026, 6, 30, 4, 0)   # 12:00 in the county
P1, P2, P3, P4, P5, P6, P7, P8 = ("11010519491231002X", "110105194912310038", "110105194912310046",
                                  "110105194912310054", "110105194912310062", "110105194912310070",
                                  "110105194912310089", "110105194912310097")
HANDLERS = {"D03": "sifa", "T01V02": "cun", "T01": "xiang", "D04": "fayuan"}
MODES = {"D03": "in_center", "T01V02": "at_home", "T01": "on_site", "D04": "litigation"}


def _type_id(code: str) -> int:
    return db.session.scalar(select(DisputeType.id).where(DisputeType.code == code))


class Driver:
    """Drives one case, each step ten minutes after the last (or at a time given)."""

    def __init__(self, at: datetime, applicant: str, township="T01", village="T01V02", type_code="0301",
                 channel="walk_in", route="mediation"):
        self.t = at
        with frozen_at(at):
            self.case_id = register_case(user("window"), intake_data(
                township_id=unit_id(township), village_id=unit_id(village) if village else None,
                dispute_type_id=_type_id(type_code), source_channel=channel, route=route,
                parties=[PartyData("applicant", "申请人", applicant, "13800138000", "二组12号"),
                         PartyData("respondent", "被申请人", "", "13900139000", "二组14号")])).id

    def step(self, form_key: str, username: str, form: dict, at: datetime | None = None):
        self.t = at or self.t + timedelta(minutes=10)
        with frozen_at(self.t):
            complete_task(user(username), open_item(self.case_id, form_key).id, form)

    def side(self, action, at: datetime | None = None):
        self.t = at or self.t + timedelta(minutes=10)
        with frozen_at(self.t):
            return action()

    def to_unit(self, unit: str, tier: str = "general"):
        self.step("triage", "dispatch", {"complexity": tier, "risk_level": "low", "resolution_mode": MODES[unit],
                                         "opinion": "事实清楚"})
        self.step("dispatch", "dispatch", {"escalate": "no", "assigned_unit_id": unit_id(unit),
                                           "instructions": "请按期调处"})
        self.step("accept", HANDLERS[unit], {"accepted": "yes", "reason": ""})
        self.unit = unit

    def sit(self, result: str = "agreed"):
        scene = {"place": "二组张家院坝", "attendees": "网格员孙丽"} if self.unit in ("T01", "T01V02") else {}
        self.side(lambda: record_session(self.case_id, HANDLERS[self.unit], result=result, **scene))

    def handle(self, result: str):
        agreed = result != "terminated"
        self.sit("agreed" if agreed else "no_agreement")
        form = {"result": result, "process_notes": "组织双方调解", "next_channel": "可向法院起诉",
                "agreement_date": self.t.date(), "applicant_signed": True, "respondent_signed": True, **AGREEMENT}
        self.step("handle", HANDLERS[self.unit], form)

    def pre_suit(self, outcome: str):
        self.sit("agreed" if outcome == "agreement" else "no_agreement")
        self.step("pre_suit", "fayuan", {"outcome": outcome, "process_notes": "委派调解",
                                         "agreement_date": self.t.date(), "applicant_signed": True,
                                         "respondent_signed": True, **AGREEMENT})

    def finish(self, closed_at: datetime, satisfaction: str | None = "satisfied"):
        """Feedback and follow-up (with the applicant's answer) unless None, verification, closing."""
        if satisfaction is not None:
            self.step("feedback", HANDLERS[self.unit], {"fulfilment": "fulfilled", "summary": "已履行"})
            self.step("followup", "verify", {"method": "phone", "applicant_satisfaction": satisfaction,
                                             "respondent_satisfaction": "satisfied", "fulfilment": "fulfilled",
                                             "notes": "回访"})
            self.step("verify", "verify", {"passed": "yes", "opinion": ""})
        self.step("close", "dispatch", {"closing_type": "mediated", "summary": "案结事了"}, at=closed_at)
        return self.case_id


def _day(y, m, d, hour=1) -> datetime:
    return datetime(y, m, d, hour, 0)   # 09:00 in the county


def _card(case_id: int, at: datetime):
    with frozen_at(at):
        raise_card(user("director"), case_id, "yellow", "逾期未办结")


def _judicial_aid(case_id: int, at: datetime, amount: str):
    from decimal import Decimal
    with frozen_at(at):
        branch = start_branch(user("window"), case_id, "judicial_aid", aid.application(case_id))
    for i, step in enumerate((aid.opinion, lambda b: aid.review(b, amount=Decimal(amount)), aid.funds,
                              lambda b: aid.notify(b, amount=Decimal(amount)))):
        with frozen_at(at + timedelta(hours=i + 1)):
            step(branch.id)


def _service(case_id: int, at: datetime, persons: int):
    with frozen_at(at):
        case = db.session.get(Case, case_id)
        record_service(user("window"), case_id, ServiceData(
            service_type="counselling", provider_kind="social_work", provider="县社工站", worker="李娜",
            served_at=at + timedelta(hours=8), duration_minutes=60, result="情绪平复",
            party_id=case.parties[0].id, persons=persons))


@pytest.fixture
def county(ctx) -> dict[str, int]:
    """The eleven cases of the module docstring; returns their ids by letter."""
    ids = {}
    a = Driver(_day(2026, 3, 2), P1)
    a.to_unit("D03")
    a.handle("written_agreement")
    ids["A"] = a.finish(_day(2026, 3, 4))
    _judicial_aid(ids["A"], _day(2026, 3, 10), "45000")
    b = Driver(_day(2026, 3, 10), P2, type_code="0201", channel="phone")
    b.to_unit("T01V02")
    b.handle("oral_agreement")
    ids["B"] = b.finish(_day(2026, 3, 11), "basically")
    c = Driver(_day(2026, 4, 13), P3)
    c.to_unit("T01")
    c.handle("terminated")
    _card(c.case_id, _day(2026, 4, 17))
    ids["C"] = c.finish(_day(2026, 4, 18), "dissatisfied")
    d = Driver(_day(2026, 4, 10), P4, township="T02", village="T02V01", channel="court")
    d.to_unit("D04")
    d.pre_suit("agreement")
    _service(d.case_id, _day(2026, 4, 11), 3)
    ids["D"] = d.finish(_day(2026, 4, 12))
    e = Driver(_day(2026, 5, 4), P5)
    e.to_unit("D04")
    e.pre_suit("far_apart")
    e.step("court_filing", "fayuan", {"filed": "yes", "court_case_no": "(2026)示0101民初12号",
                                      "decided_on": e.t.date()})
    ids["E"] = e.finish(_day(2026, 5, 5), satisfaction=None)
    f = Driver(_day(2026, 6, 1), P1)
    f.to_unit("D03")
    _card(f.case_id, _day(2026, 6, 5))
    ids["F"] = f.case_id
    ids["G"] = Driver(_day(2026, 6, 29), P6, township="T02", village="T02V01").case_id
    h = Driver(_day(2025, 4, 1), P6)
    h.to_unit("D03")
    h.handle("written_agreement")
    _card(h.case_id, _day(2025, 4, 6))
    _service(h.case_id, _day(2025, 4, 8), 2)
    ids["H"] = h.finish(_day(2025, 4, 11))
    _judicial_aid(ids["H"], _day(2025, 4, 20), "30000")
    i = Driver(_day(2025, 12, 20), P7)
    i.to_unit("D03", tier="complex")
    i.handle("written_agreement")
    ids["I"] = i.finish(_day(2026, 1, 5))
    j = Driver(_day(2026, 2, 2), P8, route="litigation")
    j.step("refer", "dispatch", {"receiving_body": "县人民法院立案庭", "notice": "已告知"})
    j.step("refer_followup", "dispatch", {"outcome": "accepted", "note": "已立案"}, at=_day(2026, 2, 3))
    ids["J"] = j.case_id
    ids["K"] = Driver(_day(2026, 6, 15), P1).case_id
    return ids


def _figures(username="director", **filters):
    with frozen_at(NOW):
        return {f.key: f for f in figures(user(username), KpiFilters(**filters))}


def _behind(ids, key, username="director", part="", **filters) -> set[str]:
    letters = {v: k for k, v in ids.items()}
    with frozen_at(NOW):
        return {letters[c.id] for c in cases_behind(user(username), key, KpiFilters(**filters), part=part)}


# key -> (value, numerator, denominator, a year earlier, the cases behind it, the cases counted above the line)
EXPECTED = {
    "received": (9, None, None, 1, "ABCDEFGJK", None),
    "resolved": (7, None, None, 1, "ABCDEIJ", None),
    "mediation_success": (0.75, 3, 4, 1.0, "ABCI", "ABI"),       # C terminated; D, E pre-filing; J referred
    "pre_suit_success": (0.5, 1, 2, None, "DE", "D"),
    "resolved_village": (1 / 6, 1, 6, 0.0, "ABCDEI", "B"),        # J has no unit
    "resolved_township": (1 / 6, 1, 6, 0.0, "ABCDEI", "C"),
    "resolved_county": (4 / 6, 4, 6, 1.0, "ABCDEI", "ADEI"),
    "days_to_resolve": (4.0, None, None, 10.0, "ABCDEIJ", None),  # (2+1+5+2+1+16+1)/7
    "on_time": (5 / 7, 5, 7, 0.0, "ABCDEIJ", "ABDEJ"),            # C: 5 days of 3; I: 16 of 10
    "satisfaction": (0.8, 4, 5, 1.0, "ABCDI", "ABDI"),            # E and J had no follow-up visit
    "overdue_now": (1, None, None, None, "F", None),
    "cards_issued": (2, None, None, 1, "CF", None),
    "cards_open": (1, None, None, None, "F", None),
    "aid_paid": (45000, None, None, 30000, "A", None),
    "service_persons": (3, None, None, 2, "D", None),
    "repeat_petitions": (2, None, None, 0, "FK", None),
}


def test_every_figure_its_year_earlier_and_the_cases_behind_it(county):
    got = _figures()
    assert list(got) == [k.key for k in KPIS] and set(EXPECTED) == set(got)
    for key, (value, num, den, previous, behind, hits) in EXPECTED.items():
        f = got[key]
        assert f.value == pytest.approx(value), key
        assert (f.numerator, f.denominator) == (num, den), key
        assert (f.previous == pytest.approx(previous)) if previous is not None else f.previous is None, key
        assert _behind(county, key) == set(behind), key
        if hits is not None:
            assert _behind(county, key, part="hits") == set(hits), key
            assert _behind(county, key, part="misses") == set(behind) - set(hits), key
    # year on year: per cent for counts, sums and averages; points for rates; the better way said
    assert (got["received"].change, got["received"].trend, got["received"].good) == (800.0, "up", None)
    assert got["days_to_resolve"].change == -60.0 and got["days_to_resolve"].good is True
    assert got["mediation_success"].change == -25.0 and got["mediation_success"].good is False
    assert got["aid_paid"].change == 50.0 and got["aid_paid"].display == "45,000"
    assert got["repeat_petitions"].change is None  # nothing a year earlier to compare with
    assert got["pre_suit_success"].change is None and got["overdue_now"].trend is None
    assert (got["on_time"].display, got["days_to_resolve"].display) == ("71.4%", "4.0")
    assert got["received"].link == {"figure": "received", "date_from": "2026-01-01", "date_to": "2026-06-30"}


@pytest.mark.parametrize("filters,expected", [
    # a township: only D and G are 东城街道's; D's service counts, A's aid does not
    ({"township": "T02"}, {"received": 2, "resolved": 1, "pre_suit_success": 1.0, "mediation_success": None,
                           "service_persons": 3, "aid_paid": 0, "overdue_now": 0, "repeat_petitions": 0}),
    # a level-1 type takes its level-2 types; a level-2 type itself
    ({"type": "02"}, {"received": 1, "resolved": 1, "resolved_village": 1.0, "satisfaction": 1.0}),
    ({"type": "0201"}, {"received": 1, "resolved": 1}),
    ({"type": "03"}, {"received": 8, "resolved": 6, "repeat_petitions": 2}),
    ({"source_channel": "phone"}, {"received": 1, "resolved": 1, "mediation_success": 1.0}),
    ({"source_channel": "court"}, {"received": 1, "pre_suit_success": 1.0, "service_persons": 3}),
    # a unit takes the units within it: 城关镇 and its village 文庙社区 (B, C)
    ({"unit": "T01"}, {"resolved": 2, "resolved_village": 0.5, "resolved_township": 0.5, "received": 2}),
    ({"unit": "D04"}, {"resolved": 2, "pre_suit_success": 0.5, "resolved_county": 1.0}),
    ({"unit": "D03"}, {"resolved": 2, "overdue_now": 1, "cards_open": 1, "aid_paid": 45000, "on_time": 0.5}),
    # a period: March only (A and B), and March a year earlier (nothing)
    ({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)},
     {"received": 2, "resolved": 2, "aid_paid": 45000, "days_to_resolve": 1.5, "repeat_petitions": 0}),
])
def test_filters_narrow_every_figure_and_its_list(county, filters, expected):
    args = dict(filters)
    if "township" in args:
        args["township_id"] = unit_id(args.pop("township"))
    if "type" in args:
        args["dispute_type_id"] = _type_id(args.pop("type"))
    if "unit" in args:
        args["unit_id"] = unit_id(args.pop("unit"))
    got = _figures(**args)
    for key, value in expected.items():
        assert got[key].value == (pytest.approx(value) if value is not None else None), key
    # every list holds what its figure counts, under the same filters
    for key in ("received", "resolved", "overdue_now"):
        assert len(_behind(county, key, **args)) == got[key].value, key
    for key in ("mediation_success", "on_time", "resolved_village"):
        assert len(_behind(county, key, **args)) == got[key].denominator, key
        assert len(_behind(county, key, part="hits", **args)) == got[key].numerator, key


def test_the_year_earlier_uses_the_same_dates(county):
    got = _figures(date_from=date(2026, 4, 1), date_to=date(2026, 4, 30))
    assert (got["received"].value, got["received"].previous) == (2, 1)    # C, D; H (2025-04-01)
    assert (got["resolved"].value, got["resolved"].previous) == (2, 1)    # C, D; H (2025-04-11)
    assert (got["cards_issued"].value, got["cards_issued"].previous) == (1, 1)
    assert (got["service_persons"].value, got["service_persons"].previous) == (3, 2)
    assert got["aid_paid"].value == 0 and got["aid_paid"].previous == 30000


def test_a_township_sees_only_its_territory(county):
    got = _figures("xiang")   # 城关镇: D and G (东城街道) are not its cases
    assert (got["received"].value, got["resolved"].value) == (7, 6)
    assert got["pre_suit_success"].denominator == 1 and got["service_persons"].value == 0
    for key in EXPECTED:
        assert not {"D", "G"} & _behind(county, key, "xiang"), key
    assert _behind(county, "received", "xiang") == set("ABCEFJK")
    # a department sees what it was given: 法院 its two pre-filing mediations, and A, on whose judicial
    # aid it gave its opinion
    got = _figures("fayuan")
    assert (got["received"].value, got["pre_suit_success"].value) == (3, 0.5)
    assert _behind(county, "resolved", "fayuan") == {"A", "D", "E"}


def test_an_unknown_figure_is_refused(ctx):
    with pytest.raises(UnknownFigureError):
        cases_behind(user("director"), "nonsense", KpiFilters())
