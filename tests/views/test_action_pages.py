def test_action_pages_render(login_as, make_case):
    case_id = make_case(until="handle")
    for user_, path, title in [("director", "card", "发督办卡"), ("sifa", "extension", "申请延期"),
                               ("sifa", "pause", "暂停计时"), ("sifa", "session", "记录调解")]:
        html = login_as(user_).get(f"/cases/{case_id}/{path}").get_data(as_text=True)
        assert title in html and 'id="action-form"' in html, path


def test_only_the_handling_unit_records_a_session_and_a_refusal_saves_nothing(login_as, make_case):
    from tests.conftest import row_counts, session_form
    case_id = make_case(until="handle")
    data = {**session_form(), "held_at": session_form()["held_at"].strftime("%Y-%m-%dT%H:%M")}
    assert login_as("grid").get(f"/cases/{case_id}/session").status_code == 403
    client = login_as("renshe")                                               # another department
    before = row_counts()
    assert client.post(f"/cases/{case_id}/session", data=data).status_code in (403, 404)
    assert row_counts() == before
    client = login_as("sifa")
    before = row_counts()
    resp = client.post(f"/cases/{case_id}/session", data={**data, "applicant_statement": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "未保存" in html and "同意按老界址" in html   # kept as typed
    assert row_counts() == before
