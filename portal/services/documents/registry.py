"""The documents of people's mediation, in the order of the dossier (domain.md §2.1–2.2).

Each document is an HTML fragment under ``templates/documents/`` filled from a ``CaseFile``.
``applies`` says whether the case has the document (the dossier includes those); ``missing``
lists, in Chinese, what the document needs that the case lacks -- the printed document says so too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from portal.services.documents import checks as c
from portal.services.documents.casefile import CaseFile

Check = Callable[[CaseFile], bool]
Missing = Callable[[CaseFile], list[str]]


@dataclass(frozen=True)
class DocumentSpec:
    key: str
    title: str
    slot: int | None      # its place in the dossier (1-13), None: printed on its own only
    required: bool        # 必须 in the dossier
    applies: Check
    missing: Missing

    @property
    def template(self) -> str:
        return f"documents/{self.key}.html"

DOCUMENTS: list[DocumentSpec] = [
    DocumentSpec("application", "人民调解申请书", 1, False, c.application_applies, c.application_missing),
    DocumentSpec("registration", "人民调解受理登记表", 1, True, c.always, c.registration_missing),
    DocumentSpec("rights_notice", "人民调解当事人权利义务告知书", 2, True, c.always, c.rights_notice_missing),
    DocumentSpec("investigation", "人民调解调查记录", 5, False, c.investigation_applies, c.investigation_missing),
    DocumentSpec("session_record", "人民调解记录", 7, True, c.session_record_applies, c.session_record_missing),
    DocumentSpec("agreement", "人民调解协议书", 8, True, c.agreement_applies, c.agreement_missing),
    DocumentSpec("oral_agreement", "人民调解口头协议登记表", 8, True, c.oral_agreement_applies,
                 c.oral_agreement_missing),
    DocumentSpec("followup", "人民调解回访记录", 10, False, c.followup_applies, c.followup_missing),
    DocumentSpec("confirmation_application", "司法确认申请书", 11, False, c.confirmation_applies,
                 c.confirmation_missing),
    DocumentSpec("closing_report", "人民调解结案报告表", 12, False, c.closing_applies, c.closing_missing),
    # Not in the dossier: printed on their own from the case page.
    DocumentSpec("risk_notice", "风险管控提示函", None, False, c.risk_applies, c.risk_missing),
    DocumentSpec("relief_form", "临时救助审批表", None, False, c.relief_applies, c.relief_missing),
    DocumentSpec("legal_aid_form", "法律援助申请表", None, False, c.legal_aid_applies, c.legal_aid_missing),
    DocumentSpec("judicial_aid_form", "国家司法救助申请登记表", None, False, c.judicial_aid_applies,
                 c.judicial_aid_missing),
]

BY_KEY = {d.key: d for d in DOCUMENTS}


def document(key: str) -> DocumentSpec | None:
    return BY_KEY.get(key)
