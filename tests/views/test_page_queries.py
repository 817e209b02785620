"""What a page reads: the user's permissions (for the menu and the page) and lanes once, not per check."""
from __future__ import annotations

from tests.conftest import open_item, statements


def test_a_page_reads_the_users_permissions_and_lanes_once(login_as, make_case):
    case_id = make_case(until="triage")
    client = login_as("dispatch")
    permission_reads = 0
    for path in (f"/cases/{case_id}", "/worklist/", f"/cases/task/{open_item(case_id).id}"):
        with statements() as seen:
            assert client.get(path).status_code == 200
        reads = sum("ab_permission_view_role" in s for s in seen)
        assert reads <= 1, path           # one query answers every check of the page and its menu
        permission_reads += reads
        assert sum("FROM lane_role" in s for s in seen) <= 1, path
    # the app server keeps the answers while the security version stays: later pages read none
    assert permission_reads <= 1


def test_the_permissions_read_once_still_decide_each_page_and_menu(login_as):
    client = login_as("dispatch")   # the dispatcher registers no case and sets no settings
    assert client.get("/cases/register").status_code == 403
    page = client.get("/worklist/").get_data(as_text=True)
    assert "/cases/register" not in page and "/settings/values" not in page
    client = login_as("window")
    assert client.get("/cases/register").status_code == 200
    assert "/cases/register" in client.get("/worklist/").get_data(as_text=True)
    page = login_as("admin").get("/worklist/").get_data(as_text=True)
    assert "/cases/register" in page and "/settings/values" in page
