"""社工服务、志愿服务: recorded by those who work the case, checked, audited, totalled in SQL; refusals save nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import frozen_at
from portal.extensions import db
from portal.models import AuditEvent, Party, PartyKind
from portal.services.errors import CaseForbiddenError, ValidationFailed
from portal.services.referrals import (
    ServiceData,
    ServiceNotAllowedError,
    record_service,
    service_totals,
    services_of,
)
from tests.conftest import row_counts, user

T0 = datetime(2026, 3, 2, 1, 0)   # Monday 09:00 in the county
LATER = T0 + timedelta(hours=6)   # 15:00 in the county


def applicant_id(case_id: int) -> int:
    return db.session.scalar(select(Party.id).where(Party.case_id == case_id, Party.kind == PartyKind.APPLICANT))


def service(case_id: int, username: str = "sifa", **overrides):
    data = dict(service_type="counselling", provider_kind="social_work", provider="县阳光社会工作服务中心",
                worker="陈静（社工）", served_at=datetime(2026, 3, 2, 14, 0), duration_minutes=90, persons=1,
                result="申请人情绪平复，愿意继续调解", party_id=applicant_id(case_id), person_name="")
    data.update(overrides)
    return record_service(user(username), case_id, ServiceData(**data))


@pytest.mark.parametrize("username,until", [
    ("sifa", "handle"),       # the unit holding the handling step
    ("window", "triage"),     # the center's case staff, whatever the step
    ("dispatch", "handle"),
    ("verify", "followup"),
    ("sifa", "followup"),     # the assigned unit's handler, after its step is done
    ("sifa", None),           # ... and after the case is closed
])
def test_who_works_the_case_records_services_numbered_and_audited(make_case, username, until):
    case_id = make_case(until=until, at=T0)
    with frozen_at(LATER):
        first = service(case_id, username)
        second = service(case_id, username, service_type="companionship", provider_kind="volunteer",
                         provider="城关镇巾帼志愿服务队", worker="刘芳、何丽", party_id=None, person_name="张小花",
                         duration_minutes=120, persons=2, result="陪同申请人之母到医院复查")
    assert (first.seq, second.seq) == (1, 2)
    assert first.served_at == datetime(2026, 3, 2, 6, 0)                     # stored in UTC
    assert [(s.served_name, s.persons) for s in services_of(case_id)] == [("张三", 1), ("张小花", 2)]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                         AuditEvent.action == "case.service")).all()
    assert [e.username for e in events] == [username, username]


@pytest.mark.parametrize("username,error", [
    ("director", ServiceNotAllowedError),   # sees every case but keeps no papers and holds no step
    ("sifalead", ServiceNotAllowedError),   # the unit's leader: supervises, does not handle
    ("xiang", ServiceNotAllowedError),      # the case's township: sees it, does not handle it
    ("cun", ServiceNotAllowedError),        # the case's village
    ("grid", CaseForbiddenError),           # a grid member of another village
    ("renshe", CaseForbiddenError),         # another department
])
def test_others_are_refused_and_a_refusal_saves_nothing(make_case, username, error):
    case_id = make_case(until="handle")
    before = row_counts()
    with pytest.raises(error):
        service(case_id, username, served_at=None)
    assert row_counts() == before


@pytest.mark.parametrize("overrides,field", [
    ({"served_at": None}, "served_at"),
    ({"served_at": datetime(2026, 3, 2, 8, 0)}, "served_at"),      # before the case was registered
    ({"served_at": datetime(2026, 3, 2, 16, 0)}, "served_at"),     # later than now
    ({"duration_minutes": 0}, "duration_minutes"), ({"duration_minutes": None}, "duration_minutes"),
    ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
    ({"persons": 0}, "persons"), ({"persons": None}, "persons"),
    ({"provider": " "}, "provider"), ({"worker": ""}, "worker"), ({"result": "\n"}, "result"),
    ({"provider": "机" * 201}, "provider"),
    ({"service_type": "massage"}, "service_type"), ({"provider_kind": ""}, "provider_kind"),
    ({"party_id": None, "person_name": ""}, "party_id"),           # nobody served
    ({"person_name": "张小花"}, "person_name"),                     # a party and a name
    ({"party_id": None, "person_name": "张" * 51}, "person_name"),
])
def test_what_a_service_must_say_and_a_refusal_saves_nothing(make_case, overrides, field):
    case_id = make_case(until="handle", at=T0)
    before = row_counts()
    with frozen_at(LATER), pytest.raises(ValidationFailed) as refused:
        service(case_id, **overrides)
    assert refused.value.field == field
    assert row_counts() == before


def test_a_party_of_another_case_is_refused(make_case):
    case_id, other = make_case(until="handle", at=T0), make_case(until="handle", at=T0)
    with frozen_at(LATER), pytest.raises(ValidationFailed) as refused:
        service(case_id, party_id=applicant_id(other))
    assert refused.value.field == "party_id"


def test_the_totals_in_sql_equal_the_sum_of_the_records(make_case):
    case_id, other = make_case(until="handle", at=T0), make_case(until="handle", at=T0)
    assert service_totals(case_id) == (0, 0, 0)
    given = [(45, 1), (120, 3), (24 * 60, 2)]
    with frozen_at(LATER):
        for minutes, persons in given:
            service(case_id, duration_minutes=minutes, persons=persons)
        service(other, duration_minutes=30, persons=5)
    assert service_totals(case_id) == (len(given), sum(p for _, p in given), sum(m for m, _ in given))
    assert service_totals(other) == (1, 5, 30)
