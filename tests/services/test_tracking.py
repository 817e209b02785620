"""Following a case online: code plus the last four digits of a party's phone; an unknown code and a wrong
pair are refused alike (and audited alike); the party sees the progress, adds material while the case is open,
and rates it once when it is closed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, CaseAttachment, CitizenRating, PartyKind
from portal.services.errors import ValidationFailed
from portal.services.filing import Upload, file_dispute
from portal.services.tracking import (
    CaseClosedError,
    TrackingFailed,
    add_material,
    find_tracker,
    rate_case,
    tracked_case,
)
from tests import papers
from tests.conftest import do_step
from tests.online import clean_online, filing, online_counts, without_audit  # noqa: F401


def test_a_party_finds_the_case_by_code_and_phone_digits(ctx):
    case = file_dispute(filing())
    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    respondent = case.parties_of(PartyKind.RESPONDENT)[0]
    assert find_tracker(case.code, "5678").party_id == applicant.id
    assert find_tracker(f"  {case.code.lower()} ", "5678").case_id == case.id   # as typed on a phone
    assert find_tracker(case.code, "9000").party_id == respondent.id           # the other side too


@pytest.mark.parametrize("code,tail", [("known", "1234"), ("known", "567"), ("known", ""), ("MT2099999999", "5678"),
                                       ("", "5678"), ("known", "56789")])
def test_an_unknown_code_and_a_wrong_pair_are_refused_alike(ctx, code, tail):
    case = file_dispute(filing())
    assert find_tracker(case.code if code == "known" else code, tail) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "public.track")
                               .order_by(AuditEvent.id.desc())).first()
    assert json.loads(event.detail)["ok"] is False      # every attempt is kept, for the center to see
    assert event.case_id == (case.id if code == "known" else None)


def test_the_party_sees_progress_and_nothing_internal(make_case):
    case_id = make_case(until="accept")           # triaged, dispatched to 司法局, awaiting acceptance
    from portal.models import Case
    case = db.session.get(Case, case_id)
    seen = tracked_case(find_tracker(case.code, "8000"))
    assert seen.code == case.code and seen.party_kind == "申请人" and not seen.closed
    assert [name for name, _at in seen.steps_done] == ["一窗受理", "研判", "分流交办"]
    assert [name for name, _due in seen.next_steps] == ["接件"] and seen.next_steps[0][1] is not None
    assert seen.deliveries == [] and seen.sessions == [] and seen.rating is None
    assert not {"phone", "id_number", "parties", "facts", "title"} & set(vars(seen))


def test_material_is_added_to_an_open_case_and_checked_like_any_attachment(ctx):
    case = file_dispute(filing(uploads=[]))
    tracker = find_tracker(case.code, "5678")
    assert add_material(tracker, [Upload("转账记录.jpg", papers.jpeg()), Upload("收条.pdf", papers.pdf())]) == 2
    titles = list(db.session.scalars(select(CaseAttachment.title).where(CaseAttachment.case_id == case.id)))
    assert titles == ["申请人王小丽网上补充的材料"] * 2
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        add_material(tracker, [Upload("ok.png", papers.png()), Upload("病毒.png", b"MZ\x90\x00 not a picture")])
    assert refused.value.field == "files" and "病毒.png" in str(refused.value)
    with pytest.raises(ValidationFailed):
        add_material(tracker, [])
    assert online_counts() == before


def _closed_case(make_case):
    from portal.models import Case
    return db.session.get(Case, make_case(until=None))


def test_a_closed_case_takes_no_material_and_is_rated_once(make_case):
    case = _closed_case(make_case)
    tracker = find_tracker(case.code, "8000")
    before = online_counts()
    with pytest.raises(CaseClosedError):
        add_material(tracker, [Upload("晚到.png", papers.png())])
    for stars in (0, 6):
        with pytest.raises(ValidationFailed):
            rate_case(tracker, stars, "")
    assert without_audit(online_counts()) == without_audit(before)
    rating = rate_case(tracker, 4, "  调解员很耐心。 ")
    assert (rating.stars, rating.comment) == (4, "调解员很耐心。")
    with pytest.raises(ValidationFailed) as refused:
        rate_case(tracker, 5, "再评一次")
    assert "已评价" in str(refused.value)
    assert db.session.scalar(select(CitizenRating.stars).where(CitizenRating.case_id == case.id)) == 4
    other = rate_case(find_tracker(case.code, "9000"), 2, "")        # the other party rates on their own
    assert other.party_id != rating.party_id
    assert tracked_case(tracker).rating.stars == 4


def test_an_open_case_cannot_be_rated(make_case):
    from portal.models import Case
    case = db.session.get(Case, make_case(until="verify"))
    before = online_counts()
    with pytest.raises(ValidationFailed) as refused:
        rate_case(find_tracker(case.code, "8000"), 5, "")
    assert "办结后" in str(refused.value)
    assert without_audit(online_counts()) == without_audit(before)
    do_step(case.id, "verify")
    do_step(case.id, "close")
    assert rate_case(find_tracker(case.code, "8000"), 5, "").stars == 5


def test_a_tracker_for_another_case_is_refused(ctx):
    from portal.services.tracking import Tracker
    first, second = file_dispute(filing()), file_dispute(filing(applicant_phone="13712340000"))
    mixed = Tracker(case_id=second.id, party_id=first.parties[0].id)
    with pytest.raises(TrackingFailed):
        tracked_case(mixed)
    with pytest.raises(TrackingFailed):
        add_material(mixed, [Upload("a.png", papers.png())])
