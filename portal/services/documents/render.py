"""Printing one document of a case: scoped to what the reader may see, masked as the page is, audited."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from portal.clock import utcnow
from portal.pdf import render_pdf
from portal.roles import sees_personal_data
from portal.services import queries
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_today
from portal.services.documents.casefile import CaseFile, load_case_file
from portal.services.documents.dossier import DOCUMENT_STYLESHEETS, build_dossier, stylesheets
from portal.services.documents.registry import DOCUMENTS, DocumentSpec, document
from portal.services.errors import DomainError


class UnknownDocumentError(DomainError):
    status_code = 404
    message = _l("There is no such document.")


@dataclass
class DocumentState:
    spec: DocumentSpec
    applies: bool
    missing: list[str]


def case_file_for(user, case_id: int) -> CaseFile:
    """The case file of a case the user may see, masked unless the user's role needs personal data."""
    case = queries.case_for(user, case_id)
    return load_case_file(case, masked=not sees_personal_data(user.role_names), today=local_today())


def documents_of(f: CaseFile) -> list[DocumentState]:
    """Every document and whether the case has it, for the case page."""
    return [DocumentState(spec, spec.applies(f), spec.missing(f) if spec.applies(f) else []) for spec in DOCUMENTS]


def document_html(f: CaseFile, spec: DocumentSpec) -> str:
    return render_template("documents/single.html", f=f, spec=spec, missing=spec.missing(f))


def document_pdf(f: CaseFile, spec: DocumentSpec) -> bytes:
    """The archive copy (PDF/A) of one document of the case file."""
    return render_pdf(document_html(f, spec), current_app.config["PORTAL_PDF_VARIANT"],
                      stylesheets=stylesheets(DOCUMENT_STYLESHEETS))


@transaction
def print_document(user, case_id: int, key: str) -> tuple[bytes, str, list[str]]:
    """(PDF, file name, what the document lacks) of one document of a case; the print is audited."""
    spec = document(key)
    if spec is None:
        raise UnknownDocumentError()
    f = case_file_for(user, case_id)
    missing = spec.missing(f)
    pdf = document_pdf(f, spec)
    audit("document.print", user=user, case=f.case, document=key, masked=f.masked, missing=missing)
    return pdf, f"{f.case.code}-{spec.title}.pdf", missing


@transaction
def print_dossier(user, case_id: int) -> tuple[bytes, str, list[str]]:
    """(PDF/A, file name, notes) of the case's whole dossier; the print is audited."""
    f = case_file_for(user, case_id)
    dossier = build_dossier(f)
    pdf = render_pdf(dossier.html, current_app.config["PORTAL_PDF_VARIANT"], dossier.resources, dossier.stylesheets)
    audit("dossier.print", user=user, case=f.case, masked=f.masked, notes=dossier.notes)
    return pdf, f"{f.case.code}-调解卷宗.pdf", dossier.notes


def _case_sheet_html(user, case, parties: list[dict]) -> str:
    """The case sheet (案件信息表): the case as the page shows it (``parties`` masked or not)."""
    return render_template("portal/print_case.html", case=case, parties=parties,
                           history=queries.case_history(case.id), printed=utcnow(),
                           printed_by=user.first_name or user.username,
                           county=current_app.config["PORTAL_COUNTY_NAME"])


@transaction
def print_case_sheet(user, case_id: int, parties: list[dict]) -> tuple[bytes, str]:
    case = queries.case_for(user, case_id)
    pdf = render_pdf(_case_sheet_html(user, case, parties))
    audit("document.print", user=user, case=case, document="case_sheet",
          masked=not sees_personal_data(user.role_names))
    return pdf, f"{case.code}-案件信息表.pdf"
