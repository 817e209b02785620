def test_action_pages_render(login_as, make_case):
    case_id = make_case(until="handle")
    for user_, path, title in [("director", "card", "发督办卡"), ("sifa", "extension", "申请延期"),
                               ("sifa", "pause", "暂停计时")]:
        html = login_as(user_).get(f"/cases/{case_id}/{path}").get_data(as_text=True)
        assert title in html and 'id="action-form"' in html, path
