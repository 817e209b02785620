"""The access matrix: every route of the portal's own views, for every role, allowed or denied.

The table is checked against the route map both ways, so a new route without a row fails here. Case
routes are tried on one case registered in 城关镇 文庙社区 and dispatched to 司法局, so the matrix also
shows territorial scoping: 人社局, 法院 and a grid member of another village are refused it by URL.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OrgUnit
from portal.services.attachments import add_attachment
from portal.services.branches import start_branch
from tests import papers
from tests.branches.test_relief import application as relief_application
from tests.conftest import open_item, row_counts, user

EVERYONE = {"window", "dispatch", "verify", "director", "admin", "sifa", "sifalead", "grid", "cun", "xiang",
            "fayuan", "renshe", "minzheng", "yuanzhu", "zhengfa"}
WORKERS = EVERYONE - {"grid"}                                   # roles that work steps (grid members only read)
SEES_CASE = {"window", "dispatch", "verify", "director", "admin",   # the county's center
             "sifa", "sifalead", "yuanzhu",                           # the lead unit 司法局 (its legal-aid desk too)
             "cun",                                                   # the case's village 文庙社区
             "xiang"}                                                 # its township 城关镇
WORKS_CASE = SEES_CASE & WORKERS
ADMIN = {"admin"}
ANALYSTS = {"director", "dispatch", "verify", "admin"}            # the center's figures: the process heat map
SCORECARDS = {"director", "dispatch", "verify", "sifalead", "admin"}      # the center's staff and unit leaders
MONTHLY_REPORT = {"director", "dispatch", "verify", "xiang", "admin"}     # the center's staff and townships
# the county's figures: the center's director, dispatcher and verifier, the township (its territory) and
# unit leaders (what their unit was given); handlers, the window, grid members and aid offices are refused
DASHBOARD = {"director", "dispatch", "verify", "admin", "xiang", "sifalead"}
SETTINGS = ("DeadlineRuleView", "CalendarDayView", "SupervisionRuleView")
GRID_REPORTERS = {"grid", "admin"}    # 流动调: grid members report from the scene (an administrator may look)
RELIEF_STARTERS = {"window", "xiang"}  # 受理窗口 and 乡镇民政 take relief applications
SETTINGS_ENDPOINTS = ("list", "show", "add", "edit", "delete", "download", "action", "action_post")
PUBLIC = frozenset(EVERYONE)           # no login at all (test_public_routes_need_no_login_and_the_rest_do)
CASE_STAFF = {"window", "dispatch", "verify", "sifa", "xiang"}   # the center's case staff and the units with a step

# endpoint -> (method, who may use it)
MATRIX: dict[str, tuple[str, set[str]]] = {
    "CaseView.find": ("GET", EVERYONE),
    "CaseView.show": ("GET", SEES_CASE),
    "DocumentView.print_case": ("GET", SEES_CASE),
    "DocumentView.document": ("GET", SEES_CASE),
    "DocumentView.dossier": ("GET", SEES_CASE),
    "CaseView.register": ("GET", {"window", "admin"}),
    "CaseView.task": ("GET", WORKS_CASE),
    "CaseView.extension": ("GET", WORKS_CASE),
    "CaseView.pause": ("GET", WORKS_CASE),
    "CaseView.resume": ("POST", WORKS_CASE),
    "CaseView.confirmation": ("GET", WORKS_CASE),
    "CaseView.ruling": ("GET", WORKS_CASE),
    "CaseView.session": ("GET", WORKS_CASE),
    "CaseView.investigation": ("GET", WORKS_CASE),
    # the center's case staff, and the units with a step of the case: 司法局, and 城关镇 investigating the relief
    "CaseView.service": ("GET", CASE_STAFF),
    "CaseView.upload": ("POST", CASE_STAFF),
    # online handling: consents and electronic service by who works the case, online sessions by its mediator
    "OnlineCaseView.consent": ("GET", CASE_STAFF),
    "OnlineCaseView.serve": ("GET", CASE_STAFF),
    "OnlineCaseView.delivery": ("GET", EVERYONE),        # no such delivery: 404 to whoever may read cases
    "OnlineCaseView.schedule": ("GET", {"sifa"}),
    "OnlineCaseView.appointment": ("GET", WORKERS),      # no such session: 404 to whoever may work cases
    **{f"PublicView.{endpoint}": (method, PUBLIC) for endpoint, method in (
        ("index", "GET"), ("file", "GET"), ("filed", "GET"), ("track", "GET"), ("case", "GET"),
        ("material", "POST"), ("rating", "POST"), ("delivery", "GET"), ("delivery_pdf", "GET"))},
    "CaseView.attachment": ("GET", SEES_CASE),
    "CaseView.comment": ("POST", WORKS_CASE),
    "CaseView.claim": ("POST", WORKS_CASE),
    "CaseView.release": ("POST", WORKS_CASE),
    "CaseView.reassign": ("POST", WORKERS),
    "CaseView.card": ("GET", {"director", "admin"}),
    "CaseView.repeats": ("GET", {"director", "admin"}),
    "PrintView.batch": ("GET", WORKERS),
    # a job is its requester's alone: others who may print get 404 for it (tested in tests/documents)
    "PrintView.job": ("GET", WORKERS), "PrintView.status": ("GET", WORKERS), "PrintView.download": ("GET", WORKERS),
    "BranchView.start": ("GET", RELIEF_STARTERS),
    "BranchView.show": ("GET", SEES_CASE),
    "BranchView.diagram": ("GET", SEES_CASE),
    "CaseView.diagram": ("GET", SEES_CASE),
    "BranchView.ledger": ("GET", EVERYONE),
    "BranchView.risk": ("GET", EVERYONE),
    "BranchView.ledger_export": ("GET", EVERYONE),
    "BranchView.risk_export": ("GET", EVERYONE),
    "ScorecardView.index": ("GET", SCORECARDS),
    "ScorecardView.export": ("GET", SCORECARDS),
    "MonthlyReportView.index": ("GET", MONTHLY_REPORT),
    "MonthlyReportView.pdf": ("GET", MONTHLY_REPORT),
    "MonthlyReportView.export": ("GET", MONTHLY_REPORT),
    "PortalSettingsView.values": ("GET", ADMIN),
    "GridReportView.report": ("GET", GRID_REPORTERS),
    "GridReportView.reports": ("GET", GRID_REPORTERS),
    "HeatmapView.index": ("GET", ANALYSTS),
    "HeatmapView.stats": ("GET", ANALYSTS),
    "HeatmapView.cases": ("GET", ANALYSTS),
    **{f"DesignerView.{endpoint}": (method, ADMIN) for endpoint, method in (
        ("files", "GET"), ("edit", "GET"), ("load", "GET"), ("save", "POST"), ("check", "POST"),
        ("discard", "POST"), ("publish", "POST"), ("versions", "GET"), ("rollback", "POST"), ("compare", "GET"),
        ("version_xml", "GET"))},
    "FormDefinitionView.list": ("GET", ADMIN),
    "FormDefinitionView.add": ("GET", ADMIN),
    "FormDefinitionView.edit": ("GET", ADMIN),
    "FormDefinitionView.preview": ("GET", ADMIN),
    "FormDefinitionView.delete": ("POST", ADMIN),
    "ProcessMigrationView.index": ("GET", ADMIN),
    # the systems using the REST API, and its documentation (the API itself takes tokens: tests/api)
    "ApiClientView.list": ("GET", ADMIN),
    "ApiClientView.add": ("GET", ADMIN),
    "ApiClientView.revoke": ("POST", ADMIN),
    "ApiClientView.docs": ("GET", ADMIN),
    "ProcessMigrationView.run": ("POST", ADMIN),
    "ProcessMigrationView.revert": ("POST", ADMIN),
    "DashboardView.index": ("GET", DASHBOARD),
    "DashboardView.cases": ("GET", DASHBOARD),
    "WorklistView.todo": ("GET", EVERYONE),
    "WorklistView.supervised": ("GET", EVERYONE),
    "WorklistView.unit": ("GET", EVERYONE),
    "WorklistView.done": ("GET", EVERYONE),
    "WorklistView.export": ("GET", EVERYONE),
    "WorklistView.notifications": ("GET", EVERYONE),
    **{f"{view}.{endpoint}": ("POST" if endpoint == "action_post" else "GET", ADMIN)
       for view in SETTINGS for endpoint in SETTINGS_ENDPOINTS},
    # the three card levels are fixed: their thresholds are edited, never added or removed
    "SupervisionRuleView.add": ("GET", set()), "SupervisionRuleView.delete": ("GET", set()),
    "SupervisionRuleView.download": ("GET", set()), "SupervisionRuleView.action_post": ("POST", set()),
}
OWN_VIEWS = ("CaseView", "DocumentView", "OnlineCaseView", "PublicView", "WorklistView", "PrintView", "BranchView",
             "PortalSettingsView",
             "DesignerView", "FormDefinitionView", "ProcessMigrationView", "HeatmapView", "ScorecardView",
             "MonthlyReportView", "DashboardView", "GridReportView", "ApiClientView", *SETTINGS)


def test_every_route_of_the_portal_has_a_row_in_the_matrix(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in OWN_VIEWS}
    assert routes == set(MATRIX), (routes - set(MATRIX), set(MATRIX) - routes)


def _denied(resp) -> bool:
    if resp.status_code == 403:
        return True
    location = resp.headers.get("Location", "") if resp.status_code == 302 else ""
    return "/login/" in location or location == "/"   # FAB bounces some denials to the index


def test_each_role_gets_exactly_what_the_matrix_says(app, login_as, make_case):
    case_id = make_case(until="handle")   # 城关镇 文庙社区, dispatched to 司法局
    item_id = open_item(case_id, "handle").id
    attachment = add_attachment(user("sifa"), case_id, "evidence", "现场照片", "scene.png", papers.png())
    branch = start_branch(user("window"), case_id, "relief", relief_application(case_id))
    args = {"case_id": case_id, "item_id": item_id, "attachment_id": attachment.id, "pk": 999999,
            "name": "muldelete", "filename": "x_sep_y.txt", "key": "registration", "job_id": 999999,
            "kind": "relief", "branch_id": branch.id, "file_name": "mediation_chain.bpmn",
            "process_id": "mediation_chain", "version_id": 999999, "migration_id": 999999, "token": "x" * 43,
            "delivery_id": 999999, "appointment_id": 999999, "client_id": 999999}
    upload = Path(app.config["UPLOAD_FOLDER"])   # FAB's download route serves a file (it fails on a missing one)
    upload.mkdir(parents=True, exist_ok=True)
    (upload / "x_sep_y.txt").write_text("x")
    before = row_counts()
    wrong = []
    for username in sorted(EVERYONE):
        client = login_as(username)
        for endpoint, (method, allowed) in MATRIX.items():
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            with app.test_request_context():
                url = rule.build({a: args[a] for a in rule.arguments}, append_unknown=False)[1]
            data = {"action": "muldelete", "rowid": "999999"} if endpoint.endswith("action_post") else {}
            resp = client.open(url, method=method, data=data if method == "POST" else None)
            if _denied(resp) == (username in allowed):
                wrong.append((username, endpoint, resp.status_code, resp.headers.get("Location")))
    assert wrong == [], "\n".join(map(str, wrong))
    counts = row_counts()
    assert {k: v for k, v in counts.items() if k != "audit_event"} == \
        {k: v for k, v in before.items() if k != "audit_event"}, "probing the routes changed case data"


def test_public_routes_need_no_login_and_the_rest_do(app, make_case):
    case_id = make_case(until="handle")
    args = {"case_id": case_id, "item_id": open_item(case_id, "handle").id, "attachment_id": 999999, "pk": 999999,
            "name": "muldelete", "filename": "x_sep_y.txt", "key": "registration", "job_id": 999999,
            "kind": "relief", "branch_id": 999999, "file_name": "mediation_chain.bpmn",
            "process_id": "mediation_chain", "version_id": 999999, "migration_id": 999999, "token": "x" * 43,
            "delivery_id": 999999, "appointment_id": 999999, "client_id": 999999}
    anonymous = app.test_client()
    wrong = []
    for endpoint, (method, allowed) in MATRIX.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        with app.test_request_context():
            url = rule.build({a: args[a] for a in rule.arguments}, append_unknown=False)[1]
        resp = anonymous.open(url, method=method)
        if _denied(resp) == (allowed is PUBLIC):
            wrong.append((endpoint, resp.status_code, resp.headers.get("Location")))
    assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("username", ["renshe", "fayuan", "grid"])
def test_a_case_of_another_unit_or_village_is_refused_by_url_and_shows_nothing(login_as, make_case, username):
    case_id = make_case(until="handle")
    client = login_as(username)
    for path in (f"/cases/{case_id}", f"/cases/task/{open_item(case_id, 'handle').id}", f"/cases/{case_id}/session"):
        resp = client.get(path)
        assert resp.status_code == 403 and "张三" not in resp.get_data(as_text=True), path
    for path in ("/worklist/unit", "/worklist/export", "/worklist/?code=MT"):
        assert "张三" not in client.get(path).get_data(as_text=True), path


def test_a_village_sees_its_own_cases_and_not_the_next_village(login_as, make_case):
    other = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T01V03"))
    mine = make_case(until="dispatch")                                 # 文庙社区 (T01V02)
    theirs = make_case(until="dispatch", village_id=other.id, title="北门社区噪音纠纷")
    client = login_as("cun")
    assert client.get(f"/cases/{mine}").status_code == 200
    assert client.get(f"/cases/{theirs}").status_code == 403
    page = client.get("/worklist/unit").get_data(as_text=True)
    assert "张三与李四宅基地边界纠纷" in page and "北门社区噪音纠纷" not in page


def test_township_a_gets_nothing_of_township_b_by_url_or_action(login_as, make_case):
    town_b = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "T02"))
    case_id = make_case(until="handle", township_id=town_b.id, village_id=None, title="乙镇土地流转纠纷")
    item_id = open_item(case_id, "handle").id
    client = login_as("xiang")                                         # 城关镇 (T01)
    before = row_counts()
    for method, path in (("GET", f"/cases/{case_id}"), ("GET", f"/cases/task/{item_id}"),
                         ("GET", f"/cases/{case_id}/print"), ("POST", f"/cases/step/{item_id}/claim"),
                         ("POST", f"/cases/{case_id}/comment"), ("POST", f"/cases/{case_id}/session")):
        resp = client.open(path, method=method, data={"body": "看看"} if method == "POST" else None)
        assert resp.status_code in (403, 404) and "乙镇土地流转纠纷" not in resp.get_data(as_text=True), path
    assert "乙镇土地流转纠纷" not in client.get("/worklist/unit").get_data(as_text=True)
    counts = row_counts()
    assert {k: v for k, v in counts.items() if k != "audit_event"} == \
        {k: v for k, v in before.items() if k != "audit_event"}
