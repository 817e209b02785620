"""What the grid report tests share: a report as the phone page sends it and a grid member of another
township (the reports are cleared with the other case tables by tests/conftest.py)."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from tests import papers
from tests.conftest import PASSWORD, unit_id, user

OTHER_GRID_MEMBER = "grid_t02"   # works in T02V01G1, a grid of the second township


def other_grid_member():
    """A grid member of the other township (T02), created once per test database."""
    from portal.services.accounts import create_user
    return user(OTHER_GRID_MEMBER) or create_user(OTHER_GRID_MEMBER, "网格员周强", ["grid_member"], "T02V01G1",
                                                  PASSWORD)


def dispute_type_id(code: str = "0202") -> int:
    from portal.models import DisputeType
    return db.session.scalar(select(DisputeType.id).where(DisputeType.code == code))


def spot(**overrides):
    from portal.services.grid_reports import OnTheSpot
    data = dict(applicant_statement="楼上每晚十一点后还在跳绳，影响休息", respondent_statement="愿意晚上十点后不再跳绳",
                how_resolved="网格员到场说明相邻关系规定，双方当面商定作息",
                terms="楼上住户每晚十点后不再跳绳、不拖动家具",
                fulfilment="fulfilled", both_agreed=True, applicant_satisfaction="satisfied",
                respondent_satisfaction="basically")
    data.update(overrides)
    return OnTheSpot(**data)


def report(**overrides):
    """A report from 解放路社区 (T01V01), where the test grid member ``grid`` works (T01V01G1)."""
    from portal.services.grid_reports import GridParty, GridPhoto, GridReportData
    data = dict(dispute_type_id=dispute_type_id(), place_kind="residence", place_detail="解放路12号3单元",
                facts="楼上住户夜间跳绳，楼下住户多次敲门理论，双方争吵。", outcome="to_township",
                parties=[GridParty("applicant", "王芳", "13800138001", "11010519491231002X"),
                         GridParty("respondent", "赵强", "")],
                latitude=30.657421, longitude=104.065735, accuracy_m=18.0,
                photos=[GridPhoto("IMG_0001.jpg", papers.jpeg())])
    data.update(overrides)
    return GridReportData(**data)


__all__ = ["OTHER_GRID_MEMBER", "dispute_type_id", "other_grid_member", "report", "spot", "unit_id"]
