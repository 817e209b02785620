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


FILE_TABLES = ("dossier_number", "mediation_agreement", "mediation_session", "case_investigation",
               "judicial_confirmation", "case_branch")


def test_a_case_page_reads_only_the_kinds_of_record_its_case_has(login_as, make_case):
    """One query asks which kinds of record the case has; the page then reads those, and no other."""
    from sqlalchemy import text

    from portal.extensions import db
    client = login_as("dispatch")
    for case_id in (make_case(until="triage"), make_case(until="feedback"), make_case(until=None)):
        held = {t for t in FILE_TABLES
                if db.session.scalar(text(f"SELECT count(*) FROM {t} WHERE case_id = :c"), {"c": case_id})}
        with statements() as seen:
            assert client.get(f"/cases/{case_id}").status_code == 200
        read = {t for t in FILE_TABLES if any(s.lstrip().startswith(f"SELECT {t}.") for s in seen)}
        assert read == held, case_id
    assert held  # the closed case has records of its own: the page did read some


def test_a_case_page_looks_for_its_parties_other_cases_only_when_there_are_some(login_as, make_case):
    """The case's own query says whether a party's ID number is in another case; the list of those cases
    is read only then. Seeing the parties is audited last: the page then reads nothing more."""
    from portal.idcard import check_digit
    from portal.services.cases import PartyData
    first17 = "11010519800101123"
    alone = make_case(until="triage", parties=[PartyData("applicant", "王五", first17 + check_digit(first17),
                                                         "13800138001", "三组1号"),
                                               PartyData("respondent", "赵六", "", "13900139001", "三组2号")])
    repeated, again = make_case(until="triage"), make_case(until="triage")   # the same applicant twice
    client = login_as("dispatch")
    for case_id, other in ((alone, None), (repeated, again)):
        with statements() as seen:
            page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        repeats_read = sum(s.lstrip().startswith("SELECT mediation_case.id") for s in seen)
        assert repeats_read == (0 if other is None else 1), case_id
        assert (other is not None) == (f"/cases/{other}" in page)
        audit = [i for i, s in enumerate(seen) if s.lstrip().startswith("INSERT INTO audit_event")]
        assert audit == [len(seen) - 1], case_id                         # the last statement of the page


def test_a_request_that_only_read_ends_with_commit_and_one_that_wrote_is_rolled_back(app):
    """On PostgreSQL a request's transaction that wrote nothing is committed at its end (its connection
    keeps its prepared statements); one that wrote without committing is never committed there."""
    from sqlalchemy import select, text

    from portal.extensions import db
    from portal.models import OrgUnit
    from portal.services._tx import end_reading
    with app.app_context():
        session = db.session()
        unit = session.scalars(select(OrgUnit).limit(1)).one()
        end_reading(session)
        assert session.in_transaction() == (db.engine.dialect.name != "postgresql")
        assert "name" in vars(unit)  # what the page read stays as read: not marked to be read again
        session.rollback()
        before = session.scalar(text("SELECT version FROM security_version"))
        session.execute(text("UPDATE security_version SET version = version + 1000"))
        end_reading(session)
        assert session.in_transaction()  # left to the ROLLBACK of closing the session
        db.session.remove()
        assert db.session.scalar(text("SELECT version FROM security_version")) == before
        db.session.remove()
        session = db.session()
        session.execute(text("UPDATE security_version SET version = version + 1"))
        session.commit()                       # a service that wrote and committed, then the page reads
        session.execute(text("SELECT 1"))
        end_reading(session)
        assert session.in_transaction() == (db.engine.dialect.name != "postgresql")
        session.rollback()
        if db.engine.dialect.name == "postgresql":  # a row lock is a write: it is not committed either
            session.execute(text("SELECT version FROM security_version FOR NO KEY UPDATE"))
            end_reading(session)
            assert session.in_transaction()
        db.session.remove()


def test_reads_with_common_table_expressions_end_with_commit_and_a_writing_one_does_not(app, login_as):
    """The dashboard's figures are read by statements with common table expressions (``WITH ...``): they
    only read, so its request ends with COMMIT like any page that only read (a ROLLBACK would make the
    driver forget the connection's prepared statements); a CTE that writes is never committed there."""
    from sqlalchemy import text

    from portal.extensions import db
    from portal.services._tx import _writes, end_reading
    client = login_as("director")
    with app.app_context(), statements() as seen:
        assert client.get("/dashboard/").status_code == 200
    read_with = [s for s in seen if s.lstrip().upper().startswith("WITH")]
    assert read_with and not any(_writes(s) for s in read_with)
    with app.app_context():
        session = db.session()
        session.execute(text("WITH v AS (SELECT version FROM security_version) SELECT version FROM v"))
        end_reading(session)
        assert session.in_transaction() == (db.engine.dialect.name != "postgresql")
        db.session.remove()
        if db.engine.dialect.name == "postgresql":  # (SQLite has no writing CTEs)
            session = db.session()
            before = session.scalar(text("SELECT version FROM security_version"))
            session.execute(text("WITH raised AS (UPDATE security_version SET version = version + 1000 "
                                 "RETURNING version) SELECT version FROM raised"))
            end_reading(session)
            assert session.in_transaction()   # left to the ROLLBACK of closing the session
            db.session.remove()
            assert db.session.scalar(text("SELECT version FROM security_version")) == before
        db.session.remove()


def test_links_built_once_per_request_are_those_of_url_for(app):
    from flask import url_for

    from portal.template_helpers import url_maker
    with app.test_request_context("/"):
        assert url_maker("CaseView.show", "case_id")(17) == url_for("CaseView.show", case_id=17)
        assert url_maker("CaseView.task", "item_id")(5) == url_for("CaseView.task", item_id=5)
        document = url_maker("DocumentView.document", "key", case_id=3)
        assert document("mediation_agreement") == url_for("DocumentView.document", case_id=3,
                                                           key="mediation_agreement")
        assert url_maker("DocumentView.document", "key", case_id=4)("x") == url_for(
            "DocumentView.document", case_id=4, key="x")   # another fixed value: another link


def test_the_layouts_links_built_once_are_those_of_url_for_and_each_names_a_file(login_as, app):
    import re
    from pathlib import Path

    import flask_appbuilder
    from flask import url_for

    from portal.template_helpers import static_url
    page = login_as("dispatch").get("/worklist/").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/appbuilder/[^"]+)"', page)
    assert len(links) >= 18
    static = Path(flask_appbuilder.__file__).parent / "static" / "appbuilder"
    for link in links:
        assert (static / link.removeprefix("/static/appbuilder/")).is_file(), link
    for script_root in ("", "/portal"):   # served under a path of its own behind a proxy
        with app.test_request_context("/", base_url=f"http://county.example{script_root}/"):
            for name in ("css/ab.css", "js/ab.js"):
                assert static_url(name) == url_for("appbuilder.static", filename=name)


def test_a_blank_field_drawn_once_per_language_is_the_macros_and_a_refused_one_is_drawn_afresh(app):
    from flask import get_template_attribute
    from flask_babel import force_locale
    from werkzeug.datastructures import MultiDict

    from portal.forms.steps import AttachmentForm
    from portal.template_helpers import form_field
    with app.test_request_context("/"):
        macro = get_template_attribute("portal/_macros.html", "field")
        for locale, word in (("zh", "材料类别"), ("en", "Kind of paper")):
            with force_locale(locale):
                blank = AttachmentForm(formdata=None, meta={"csrf": False})
                for name in ("category", "title", "file"):
                    assert form_field(blank[name]) == macro(blank[name])
                assert word in form_field(AttachmentForm(formdata=None, meta={"csrf": False}).category)
        refused = AttachmentForm(formdata=MultiDict({"title": "收条"}), meta={"csrf": False})
        assert not refused.validate()
        assert 'value="收条"' in form_field(refused.title)                         # kept as typed
        assert "field-error" in form_field(refused.category) and "field-error" not in macro(blank.category)
        opened = AttachmentForm(formdata=None, data={"title": "调解协议书"}, meta={"csrf": False})
        assert 'value="调解协议书"' in form_field(opened.title)                     # opened with a value


def test_a_blank_field_follows_its_choices(app):
    from portal.forms.steps import AttachmentForm
    from portal.template_helpers import form_field
    with app.test_request_context("/"):
        form = AttachmentForm(formdata=None, meta={"csrf": False})
        before = form_field(form.category)
        form.category.choices = [*form.category.choices, ("other_paper", "其他材料")]
        assert "其他材料" not in before and "其他材料" in form_field(form.category)
        form.category.choices = form.category.choices[:-1]
        assert form_field(form.category) == before


def test_a_worklist_reads_its_lines_in_one_statement_with_their_cases_units_and_claimers(login_as, make_case):
    """The to-do and done tabs read their page of steps by id in one statement of plain rows: no step,
    case, unit or user is loaded one by one, and each line still shows its case, type, unit and claimer."""
    from portal.extensions import db
    from portal.models import Case
    from portal.services.claims import claim
    from tests.conftest import do_step, user
    waiting, claimed = make_case(until="triage"), make_case(until="triage")
    claim(user("dispatch"), open_item(claimed).id)
    done = make_case(until="triage")
    do_step(done, "triage")
    client = login_as("dispatch")
    for path, shown in (("/worklist/", (waiting, claimed)), ("/worklist/done", (done,))):
        client.get(path)   # the filters' lists of types and townships are kept from the first page on
        with statements() as seen:
            page = client.get(path).get_data(as_text=True)
        lines = [s for s in seen if "FROM work_item JOIN mediation_case" in s]
        assert len(lines) == 1, path
        assert not any(s.lstrip().startswith(("SELECT mediation_case.", "SELECT org_unit.", "SELECT dispute_type."))
                       for s in seen), path
        for case_id in shown:
            case = db.session.get(Case, case_id)
            assert f'href="/cases/{case_id}">{case.code}</a>' in page and case.dispute_type.name in page, path
    page = client.get("/worklist/").get_data(as_text=True)
    dispatcher = user("dispatch")
    assert (dispatcher.first_name or dispatcher.username) in page   # the claimed step names who holds it


def test_a_read_apart_commits_and_hands_back_detached_rows_as_read(app):
    """The security snapshot's users and lists are read in sessions of their own that end with COMMIT
    (a ROLLBACK would make the driver forget the connection's prepared statements); what they read comes
    back detached, with its columns loaded, for later requests to read without the database."""
    from sqlalchemy import event, inspect, select

    from portal.extensions import db
    from portal.models import OrgUnit
    from portal.services._tx import read_apart
    ended = []
    with app.app_context():
        listeners = {"commit": lambda conn: ended.append("commit"), "rollback": lambda conn: ended.append("rollback")}
        for name, listener in listeners.items():
            event.listen(db.engine, name, listener)
        try:
            units = read_apart(lambda session: list(session.scalars(select(OrgUnit).limit(3))))
        finally:
            for name, listener in listeners.items():
                event.remove(db.engine, name, listener)
        assert ended == ["commit"]
        assert units and all(inspect(u).detached and "name" in vars(u) for u in units)


def test_the_dashboard_reads_the_cases_its_figures_correct_once(login_as, make_case):
    """The dashboard's figure statements correct the day sums by the cases the worker has not counted as
    they are; which cases those are is read once per request, not worked out again inside each statement."""
    make_case(until="triage")   # changed since, and no worker round has counted it
    client = login_as("director")
    with statements() as seen:
        assert client.get("/dashboard/").status_code == 200
    figures = [s for s in seen if "now_parts" in s]
    changed = [s for s in seen if "case_figures.case_updated_at >=" in s]
    assert len(figures) >= 2 and len(changed) == 1 and changed[0] not in figures


def test_a_case_page_decides_what_a_handler_may_do_from_the_steps_it_read(login_as, make_case):
    """Adding attachments, recording a social service and serving documents are for whoever holds an open
    step of the case (a unit's handler is not one of the center's case staff): the page decides all three
    from the case's steps it has read, with no other read of them."""
    case_id = make_case(until="accept")
    client = login_as("sifa")
    with statements() as seen:
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert sum(s.lstrip().startswith("SELECT work_item.") for s in seen) == 1
    assert 'id="record-service"' in page and f"/cases/{case_id}/attachments" in page
    assert 'id="record-consent"' in page
