"""Batch printing of dossiers: ask, watch the progress, download."""
from __future__ import annotations

import json
from urllib.parse import quote

from flask import g, jsonify, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms.prints import BatchPrintForm
from portal.models import OrgKind
from portal.services import queries
from portal.services.documents.batch import job_for, jobs_of, queue_print_job, record_download
from portal.views.pages import submit

SHOWN_NOTES = 100  # the zip's 打印说明.txt has them all


def _status(job) -> dict:
    notes = json.loads(job.notes or "[]")
    if len(notes) > SHOWN_NOTES:
        notes = notes[:SHOWN_NOTES] + [_("… and %(n)s more notes (all in the download)", n=len(notes) - SHOWN_NOTES)]
    return {"id": job.id, "status": job.status.value, "done": job.done, "total": job.total,
            "notes": notes, "error": job.error or "",
            "download": url_for("PrintView.download", job_id=job.id) if job.status.value == "done" else ""}


class PrintView(BaseView):
    route_base = "/prints"
    default_view = "batch"
    class_permission_name = "Print"
    method_permission_name = {"batch": "batch", "job": "batch", "status": "batch", "download": "batch"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def batch(self):
        form = BatchPrintForm()
        form.set_choices(queries.org_units(OrgKind.TOWNSHIP))
        return submit(self, form, lambda: queue_print_job(
                           g.user, form.month.data, form.township_id.data, form.scope.data == "closed",
                           form.output.data),
                       lambda job: _("Queued: the dossiers of %(n)s cases.", n=job.total),
                       lambda job: url_for("PrintView.job", job_id=job.id), "portal/prints.html",
                       context=lambda: {"jobs": jobs_of(g.user)})

    @expose("/<int:job_id>")
    @has_access
    def job(self, job_id: int):
        job = job_for(g.user, job_id)
        return self.render_template("portal/print_job.html", job=job, state=_status(job),
                                    criteria=json.loads(job.criteria))

    @expose("/<int:job_id>/status")
    @has_access
    def status(self, job_id: int):
        return jsonify(_status(job_for(g.user, job_id)))

    @expose("/<int:job_id>/download")
    @has_access
    def download(self, job_id: int):
        job = job_for(g.user, job_id)
        path = record_download(g.user, job)
        response = send_file(path, as_attachment=True, download_name=path.name,
                             mimetype="application/zip" if job.output == "zip" else "application/pdf")
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
        return response
