"""The process designer's pages (administrators): the diagram files, the modeler with its draft,
publishing, versions with rollback, and the difference between two versions."""
from __future__ import annotations

import json

from flask import Response, abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.bpmn import DiagramInvalidError
from portal.services import designer
from portal.services.errors import DomainError


def _problems(exc: DiagramInvalidError) -> list[dict]:
    return [{"file": f, "line": line, "element": element, "message": message}
            for f, line, element, message in exc.problems]


def _texts() -> dict[str, str]:
    return {"selectTask": _("Select a user task to set its form, deadline and case status."),
            "userTask": _("User task"), "name": _("Name"), "formKey": _("Form"), "lane": _("Lane and roles"),
            "deadline": _("Deadline"), "deadlineHelp": _("A time limit drawn as a timer on the task's border "
                                                         "(workdays_after(5)) also counts."),
            "caseStatus": _("Case status while the step is open"), "chooseForm": _("— choose a form —"),
            "noRole": _("no role works this lane: publishing will be refused"),
            "noLane": _("outside any lane: publishing will be refused"), "noDeadline": _("No deadline"),
            "dueAfter": _("Due after (ISO duration)"), "caseDeadline": _("The case's deadline"),
            "keepStatus": _("— keep the case's status —"), "line": _("line"),
            "uploaded": _("File loaded into the modeler; save it as the draft to keep it."),
            "uploadFailed": _("The file could not be opened:")}


class DesignerView(BaseView):
    route_base = "/processes"
    default_view = "files"
    class_permission_name = "Processes"
    # can_allow_scripts: may publish a diagram with script tasks (still run in the restricted environment)
    base_permissions = ["can_edit", "can_allow_scripts"]
    method_permission_name = {name: "edit" for name in (
        "files", "edit", "load", "save", "check", "discard", "publish", "versions", "rollback", "compare",
        "version_xml")}

    @expose("/")
    @has_access
    def files(self):
        return self.render_template("portal/designer_files.html", files=designer.design_files())

    @expose("/edit/<file_name>")
    @has_access
    def edit(self, file_name: str):
        from portal.models import CaseStatus
        from portal.services.designer_support import form_choices, lane_roles
        _xml, revision, draft = designer.open_draft(file_name)
        kind = "dmn" if file_name.endswith(".dmn") else "bpmn"
        config = {"file": file_name, "kind": kind, "revision": revision, "text": _texts(),
                  "forms": form_choices(), "lanes": lane_roles(),
                  "statuses": [{"value": s.value, "label": str(s.label)} for s in CaseStatus]
                  if file_name.startswith("mediation_chain") else [],
                  "urls": {"load": url_for("DesignerView.load", file_name=file_name),
                           "save": url_for("DesignerView.save", file_name=file_name),
                           "check": url_for("DesignerView.check", file_name=file_name),
                           "moddle": url_for("static", filename="portal/spiffworkflow-moddle.json")}}
        return self.render_template("portal/designer.html", file_name=file_name, kind=kind, draft=draft,
                                    config=json.dumps(config, ensure_ascii=False),
                                    may_allow_scripts=_may_allow_scripts(g.user))

    @expose("/load/<file_name>")
    @has_access
    def load(self, file_name: str):
        xml, revision, draft = designer.open_draft(file_name)
        return jsonify(xml=xml.decode("utf-8"), revision=revision, source="draft" if draft else "published")

    @expose("/save/<file_name>", methods=["POST"])
    @has_access
    def save(self, file_name: str):
        try:
            base = int(request.headers.get("X-Base-Revision", "-1"))
        except ValueError:
            base = -1
        try:
            draft = designer.save_draft(g.user, file_name, request.get_data(), base)
        except DiagramInvalidError as exc:
            return jsonify(message=_("The file is not a diagram the portal can read; nothing was saved."),
                           problems=_problems(exc)), 400
        except DomainError as exc:
            return jsonify(message=str(exc)), exc.status_code
        return jsonify(revision=draft.revision, message=_("Draft saved (revision %(n)s).", n=draft.revision))

    @expose("/check/<file_name>", methods=["POST"])
    @has_access
    def check(self, file_name: str):
        problems = designer.check_text(file_name, request.get_data())
        message = _("%(n)s problem(s) must be fixed before publishing.", n=len(problems)) if problems \
            else _("No problems found: the draft can be published.")
        return jsonify(message=message, problems=[
            {"file": f, "line": line, "element": element, "message": text} for f, line, element, text in problems])

    @expose("/discard/<file_name>", methods=["POST"])
    @has_access
    def discard(self, file_name: str):
        try:
            designer.discard_draft(g.user, file_name, int(request.form.get("revision", "-1")))
            flash(_("Draft discarded."), "success")
        except (DomainError, ValueError) as exc:
            flash(str(exc), "danger")
        return redirect(url_for("DesignerView.files"))

    @expose("/publish/<file_name>", methods=["POST"])
    @has_access
    def publish(self, file_name: str):
        allow_scripts = request.form.get("allow_scripts") == "y" and _may_allow_scripts(g.user)
        try:
            versions = designer.publish_draft(g.user, file_name, int(request.form.get("revision", "-1")),
                                              request.form.get("reason", ""), allow_scripts=allow_scripts)
        except DiagramInvalidError as exc:
            flash(_("Not published: %(n)s problem(s).", n=len(exc.problems)), "danger")
            for f, line, element, message in exc.problems:
                flash(" · ".join(str(x) for x in (f, line and _("line %(n)s", n=line), element, message) if x),
                      "danger")
            return redirect(url_for("DesignerView.edit", file_name=file_name))
        except (DomainError, ValueError) as exc:
            flash(str(exc), "danger")
            return redirect(url_for("DesignerView.edit", file_name=file_name))
        flash(_("Published: %(v)s. New cases start on it; running cases stay on their version.",
                v="、".join(f"{v.name} v{v.version}" for v in versions)), "success")
        return redirect(url_for("DesignerView.versions", process_id=versions[0].process_id))

    @expose("/versions/<process_id>")
    @has_access
    def versions(self, process_id: str):
        versions = designer.versions_of(process_id)
        if not versions:
            abort(404)
        return self.render_template("portal/designer_versions.html", process_id=process_id, versions=versions)

    @expose("/rollback/<int:version_id>", methods=["POST"])
    @has_access
    def rollback(self, version_id: int):
        target = designer.version(version_id)
        try:
            now = designer.roll_back(g.user, version_id, request.form.get("reason", ""))
            flash(_("Rolled back: new cases start on version %(v)s.", v=now.version), "success")
        except DomainError as exc:
            flash(str(exc), "danger")
        return redirect(url_for("DesignerView.versions", process_id=target.process_id))

    @expose("/compare")
    @has_access
    def compare(self):
        try:
            diff = designer.compare(int(request.args.get("old", "0")), int(request.args.get("new", "0")))
        except ValueError:
            abort(404)
        return self.render_template("portal/designer_compare.html", diff=diff, aspects=designer.ASPECT_LABELS)

    @expose("/version/<int:version_id>.bpmn")
    @has_access
    def version_xml(self, version_id: int):
        v = designer.version(version_id)
        return Response(v.bpmn_xml, mimetype="application/xml", headers={
            "Content-Disposition": f"attachment; filename={v.process_id}-v{v.version}.bpmn"})


def _may_allow_scripts(user) -> bool:
    from portal.services.processes import may_allow_scripts
    return may_allow_scripts(user)
