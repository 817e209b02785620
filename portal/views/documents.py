"""Printing a case's papers: the case sheet, each document of people's mediation, the whole dossier.

Personal data is masked as on the case page for roles that do not need it; every print is audited."""
from __future__ import annotations

import json

from flask import g
from flask_appbuilder import BaseView, expose, has_access

from portal.services import queries
from portal.services.documents.render import print_case_sheet, print_document, print_dossier
from portal.views.pages import parties_for, pdf_response


class DocumentView(BaseView):
    route_base = "/cases"
    class_permission_name = "Case"
    method_permission_name = {"print_case": "read", "document": "read", "dossier": "read"}

    @expose("/<int:case_id>/print")
    @has_access
    def print_case(self, case_id: int):
        """The case sheet (案件信息表)."""
        case = queries.case_for(g.user, case_id)
        pdf, name = print_case_sheet(g.user, case_id, parties_for(g.user, case))
        return pdf_response(pdf, name)

    @expose("/<int:case_id>/documents/<key>")
    @has_access
    def document(self, case_id: int, key: str):
        """One document of the case (人民调解文书)."""
        pdf, name, _missing = print_document(g.user, case_id, key)
        return pdf_response(pdf, name)

    @expose("/<int:case_id>/dossier")
    @has_access
    def dossier(self, case_id: int):
        """The whole dossier (人民调解卷宗) as one PDF/A; what it lacks is noted in it and in a header."""
        pdf, name, notes = print_dossier(g.user, case_id)
        response = pdf_response(pdf, name)
        response.headers["X-Dossier-Notes"] = json.dumps(notes)  # ASCII-escaped for the header
        return response
