"""Helpers of the online self-service tests: the tables they add emptied around each test (import
``clean_online`` into a test module), a valid online filing, and counts of every row a refusal
must leave alone."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from tests import papers
from tests.conftest import row_counts

ONLINE_TABLES = ["party_consent", "document_delivery", "session_appointment", "citizen_rating", "rate_window"]
APPLICANT_ID = "11010519491231002X"
APPLICANT_PHONE = "13712345678"


@pytest.fixture(autouse=True)
def clean_online(app):
    def clean():
        with app.app_context():
            for table in ONLINE_TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))
            db.session.commit()
    clean()
    yield
    clean()


def filing(**overrides):
    """A valid online filing (城关镇 文庙社区, a homestead boundary dispute) with a photo attached."""
    from portal.models import DisputeType, OrgUnit
    from portal.services.filing import OnlineFiling, Upload
    dtype = db.session.scalar(select(DisputeType.id).where(DisputeType.code == "0301"))
    town = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01"))
    village = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01V02"))
    data = dict(applicant_name="王小丽", applicant_id_number=APPLICANT_ID, applicant_phone=APPLICANT_PHONE,
                applicant_address="广东省东莞市长安镇", respondent_name="刘大成", respondent_phone="13900139000",
                respondent_address="文庙社区二组", dispute_type_id=dtype, township_id=town, village_id=village,
                place_kind="residence", place_detail="二组老屋", facts="刘大成在我家老屋旁新砌围墙，占了我家宅基地。",
                requests="请求拆除越界围墙。", consent_online=True, consent_e_service=True,
                uploads=[Upload("围墙.png", papers.png())])
    data.update(overrides)
    return OnlineFiling(**data)


def online_counts() -> dict[str, int]:
    """Every case table and every online table: what a refused action must not change."""
    counts = row_counts()
    for table in ONLINE_TABLES:
        counts[table] = db.session.scalar(select(func.count()).select_from(text(table)))
    return counts


def without_audit(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k not in ("audit_event", "rate_window")}
