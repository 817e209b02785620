"""The public pages without a login: filing (form, consents, files, CSRF), the code and its QR code, following
the case (a wrong pair answers exactly like an unknown code), adding material, rating, opening a served
document; every POST limited per client address (429), behind a proxy only when one is configured."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.clock import frozen_at
from portal.extensions import db
from portal.models import Case, CaseAttachment, CitizenRating, DeliveryStatus, DocumentDelivery, OrgUnit, PartyKind
from portal.services.delivery import serve_document
from portal.services.filing import file_dispute
from tests import papers
from tests.conftest import csrf_token, user
from tests.online import APPLICANT_ID, APPLICANT_PHONE, clean_online, filing, online_counts  # noqa: F401


def _form(**overrides) -> dict:
    from portal.models import DisputeType
    data = {"applicant_name": "王小丽", "applicant_id_number": APPLICANT_ID, "applicant_phone": APPLICANT_PHONE,
            "applicant_address": "", "respondent_name": "刘大成", "respondent_phone": "", "respondent_address": "",
            "dispute_type_id": str(db.session.scalar(select(DisputeType.id).where(DisputeType.code == "0301"))),
            "township_id": str(db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "T01"))),
            "village_id": "", "place_kind": "residence", "place_detail": "", "facts": "围墙越界。",
            "requests": "拆除围墙。", "consent_online": "y", "consent_e_service": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _cases() -> list[Case]:
    return list(db.session.scalars(select(Case)))


@pytest.mark.parametrize("path", ["/public/", "/public/file", "/public/track"])
def test_the_pages_open_without_login_on_a_phone_layout(client, ctx, path):
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="viewport" content="width=device-width' in html
    assert "appbuilder" not in html and "/login/" not in html and 'lang="zh-CN"' in html


def test_a_citizen_files_a_dispute_and_gets_its_code_and_qr_code(client, ctx):
    form = _form(files=[(io.BytesIO(papers.png()), "围墙.png"), (io.BytesIO(papers.pdf()), "照片.pdf")])
    sent = client.post("/public/file", data=form, content_type="multipart/form-data")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/public/filed")
    [case] = _cases()
    assert case.source_channel.value == "online" and case.township.code == "T01"
    assert len(list(db.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)))) == 2
    shown = client.get("/public/filed").get_data(as_text=True)
    assert case.code in shown and "<svg" in shown and f"/public/track?code={case.code}" in shown
    assert client.get(f"/public/track?code={case.code}").get_data(as_text=True).count(f'value="{case.code}"') == 1


@pytest.mark.parametrize("overrides,words", [
    (dict(consent_online=None), "须同时同意线上办理和电子送达"),
    (dict(consent_e_service=None), "须同时同意线上办理和电子送达"),
    (dict(applicant_phone="0571-8888888"), "11位手机号码"),
    (dict(applicant_id_number="110105194912310021"), "身份证"),
    (dict(facts=""), ""),
])
def test_a_bad_filing_shows_the_reason_and_saves_nothing(client, ctx, overrides, words):
    before = online_counts()
    page = client.post("/public/file", data=_form(**overrides), content_type="multipart/form-data")
    assert page.status_code == 400 and words in page.get_data(as_text=True)
    assert 'class="error field-error"' in page.get_data(as_text=True)
    after = online_counts()
    assert {k: v for k, v in after.items() if k != "rate_window"} == \
        {k: v for k, v in before.items() if k != "rate_window"}


def test_a_fake_photo_is_refused_by_name(client, ctx):
    before = online_counts()
    page = client.post("/public/file", data=_form(files=[(io.BytesIO(b"GIF89a not really"), "现场.jpg")]),
                       content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "现场.jpg" in html and "PNG" in html
    assert _cases() == [] and online_counts()["case_attachment"] == before["case_attachment"]


def test_the_forms_need_their_csrf_token(client, ctx, monkeypatch, app):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/public/file", data=_form(), content_type="multipart/form-data")
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True) and _cases() == []
    token = csrf_token(client.get("/public/file").get_data(as_text=True))
    sent = client.post("/public/file", data=_form(csrf_token=token), content_type="multipart/form-data")
    assert sent.status_code == 302 and len(_cases()) == 1


def _track(client, code, tail):
    return client.post("/public/track", data={"code": code, "phone_tail": tail})


def test_a_wrong_pair_answers_exactly_like_an_unknown_code(client, ctx):
    case = file_dispute(filing())
    client.get("/public/track")
    wrong = _track(client, case.code, "0000")
    unknown = _track(client, "MT2099000001", "5678")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_data() == unknown.get_data()                         # byte for byte
    assert sorted(k for k, _v in wrong.headers) == sorted(k for k, _v in unknown.headers)
    assert "没有与该编号和手机后四位相符的案件" in wrong.get_data(as_text=True)
    assert case.code not in wrong.get_data(as_text=True)                  # nothing typed is echoed
    assert client.get("/public/case").headers["Location"].endswith("/public/track")   # nothing opened


def test_the_party_follows_the_case_and_sees_nothing_internal(client, make_case):
    case = db.session.get(Case, make_case(until="accept"))
    followed = _track(client, case.code, "8000")
    assert followed.status_code == 302 and followed.headers["Location"].endswith("/public/case")
    html = client.get("/public/case").get_data(as_text=True)
    for shown in (case.code, "一窗受理", "研判", "分流交办", "接件", "申请人", "城关镇"):
        assert shown in html, shown
    respondent = case.parties_of(PartyKind.RESPONDENT)[0]
    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    for hidden in (respondent.name, respondent.phone, applicant.id_number, applicant.phone, "事实清楚", "请3日内调处",
                   case.facts, "二组14号"):
        assert hidden not in html, hidden


def test_the_tracking_page_closes_after_its_time(client, make_case, app, monkeypatch):
    case = db.session.get(Case, make_case(until="accept"))
    monkeypatch.setitem(app.config, "PORTAL_PUBLIC_TRACK_MINUTES", 0)
    _track(client, case.code, "8000")
    assert client.get("/public/case").status_code == 302


def test_material_is_added_and_a_fake_file_refused(client, ctx):
    case = file_dispute(filing(uploads=[]))
    _track(client, case.code, "5678")
    sent = client.post("/public/case/material", data={"files": [(io.BytesIO(papers.jpeg()), "转账.jpg")]},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    assert "已为您的案件补充1个文件" in client.get("/public/case").get_data(as_text=True)
    refused = client.post("/public/case/material", data={"files": [(io.BytesIO(b"<html>"), "转账2.png")]},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and "转账2.png" in refused.get_data(as_text=True)
    names = list(db.session.scalars(select(CaseAttachment.filename).where(CaseAttachment.case_id == case.id)))
    assert names == ["转账.jpg"]


def test_the_closed_case_is_rated_once(client, make_case):
    case = db.session.get(Case, make_case(until=None))
    _track(client, case.code, "8000")
    page = client.get("/public/case").get_data(as_text=True)
    assert 'id="rating-form"' in page and 'id="material-form"' not in page
    assert client.post("/public/case/rating", data={"stars": "5", "comment": "满意"}).status_code == 302
    again = client.post("/public/case/rating", data={"stars": "1", "comment": "改评"})
    assert again.status_code == 400 and "您已评价过本案" in again.get_data(as_text=True)
    assert list(db.session.scalars(select(CitizenRating.stars))) == [5]
    assert "★★★★★" in client.get("/public/case").get_data(as_text=True)


def test_an_open_case_is_not_rated_through_the_page(client, ctx):
    case = file_dispute(filing())
    _track(client, case.code, "5678")
    refused = client.post("/public/case/rating", data={"stars": "5"})
    assert refused.status_code == 400 and "办结后才能评价" in refused.get_data(as_text=True)


def test_without_tracking_nothing_can_be_added_or_rated(app, ctx):
    fresh = app.test_client()
    before = online_counts()
    for path in ("/public/case/material", "/public/case/rating"):
        resp = fresh.post(path, data={"stars": "5"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/public/track")
    after = online_counts()
    assert {k: v for k, v in after.items() if k != "rate_window"} == \
        {k: v for k, v in before.items() if k != "rate_window"}


def test_a_served_document_opens_by_its_link_and_the_receipt_is_recorded(client, ctx):
    case = file_dispute(filing())
    delivery = serve_document(user("window"), case.id, "registration", case.parties_of(PartyKind.APPLICANT)[0].id)
    _track(client, case.code, "5678")
    listed = client.get("/public/case").get_data(as_text=True)
    assert f"/public/d/{delivery.token}" in listed and "人民调解受理登记表" in listed
    page = client.get(f"/public/d/{delivery.token}", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert page.status_code == 200 and "打开即视为签收" in page.get_data(as_text=True)
    pdf = client.get(f"/public/d/{delivery.token}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:5] == b"%PDF-"
    db.session.expire_all()
    delivery = db.session.get(DocumentDelivery, delivery.id)
    assert (delivery.status, delivery.received_from, delivery.opens) == (DeliveryStatus.RECEIVED, "198.51.100.9", 2)
    bad = client.get("/public/d/" + "x" * 43)
    assert bad.status_code == 404 and "链接无效" in bad.get_data(as_text=True) and "appbuilder" not in bad.get_data(
        as_text=True)


def test_staff_logged_in_do_not_sign_for_the_party(login_as, ctx):
    case = file_dispute(filing())
    delivery = serve_document(user("window"), case.id, "registration", case.parties_of(PartyKind.APPLICANT)[0].id)
    client = login_as("window")
    assert client.get(f"/public/d/{delivery.token}").status_code == 200
    db.session.expire_all()
    assert db.session.get(DocumentDelivery, delivery.id).received_at is None


@pytest.fixture
def tight(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_PUBLIC_RATE_LIMITS",
                        {"file": (2, 3600), "track": (3, 600), "material": (2, 3600), "rate": (2, 3600)})


def test_tracking_is_limited_per_address_with_a_chinese_429(client, ctx, tight):
    case = file_dispute(filing())
    assert [_track(client, case.code, f"{n:04d}").status_code for n in range(3)] == [404, 404, 404]
    limited = _track(client, case.code, "5678")                 # even the right pair, once limited
    assert limited.status_code == 429 and "操作过于频繁" in limited.get_data(as_text=True)
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    assert client.get("/public/case").status_code == 302         # nothing opened
    elsewhere = client.post("/public/track", data={"code": case.code, "phone_tail": "5678"},
                            environ_base={"REMOTE_ADDR": "198.51.100.50"})
    assert elsewhere.status_code == 302
    spoofed = _track_from(client, case.code, "5678", forwarded="203.0.113.1")  # no proxy trusted: header ignored
    assert spoofed.status_code == 429


def _track_from(client, code, tail, forwarded):
    return client.post("/public/track", data={"code": code, "phone_tail": tail},
                       headers={"X-Forwarded-For": forwarded})


def test_filing_is_limited_and_the_limit_holds_a_flood_of_bad_submissions(client, ctx, tight):
    bad = _form(consent_online=None)
    assert [client.post("/public/file", data=bad).status_code for _ in range(2)] == [400, 400]
    refused = client.post("/public/file", data=_form())
    assert refused.status_code == 429 and _cases() == []


def test_material_and_rating_are_limited(client, make_case, tight):
    case = db.session.get(Case, make_case(until=None))
    _track(client, case.code, "8000")
    codes = [client.post("/public/case/rating", data={"stars": "9"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    codes = [client.post("/public/case/material", data={}).status_code for _ in range(3)]
    assert codes[-1] == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(app, ctx, tight):
    shared = ("SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER", "PORTAL_PRINT_FOLDER", "PORTAL_PUBLIC_RATE_LIMITS")
    proxied = create_app({**{k: app.config[k] for k in shared}, "SECRET_KEY": "proxied", "WTF_CSRF_ENABLED": False,
                          "PORTAL_TRUSTED_PROXIES": 1, "TESTING": True})
    client = proxied.test_client()
    codes = [_track_from(client, "MT2099000001", "1234", "203.0.113.1").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert _track_from(client, "MT2099000001", "1234", "203.0.113.2").status_code == 404   # another citizen
    # the client's own claim before the proxy's entry is not believed
    assert _track_from(client, "MT2099000001", "1234", "203.0.113.2, 203.0.113.1").status_code == 429


def test_the_limit_window_ends(client, ctx, tight):
    from portal.clock import utcnow
    at = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with frozen_at(at):
        assert [_track(client, "MT1", "1234").status_code for _ in range(4)][-1] == 429
    with frozen_at(at + timedelta(minutes=10)):
        assert _track(client, "MT1", "1234").status_code == 404


def test_app_servers_count_together(app, ctx, tight):
    second = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER",
                                                        "PORTAL_PRINT_FOLDER", "PORTAL_PUBLIC_RATE_LIMITS")},
                         "SECRET_KEY": "second", "WTF_CSRF_ENABLED": False, "TESTING": True})
    codes = [_track(server.test_client(), "MT1", "1234").status_code for server in (app, second, app, second)]
    assert codes == [404, 404, 404, 429]


def test_an_oversized_submission_is_refused_on_the_public_layout(client, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    big = client.post("/public/file", data=_form(files=[(io.BytesIO(b"\0" * 100 * 1024), "大.pdf")]),
                      content_type="multipart/form-data")
    html = big.get_data(as_text=True)
    assert big.status_code == 413 and "立案后还可以补充材料" in html and "64 KB" in html and "appbuilder" not in html
    assert _cases() == []


def test_the_index_links_both_ways(client, ctx):
    html = client.get("/public/").get_data(as_text=True)
    assert re.search(r'href="/public/file"', html) and re.search(r'href="/public/track"', html)
