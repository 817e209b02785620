"""The documents of people's mediation, in the order of the dossier (domain.md §2.1–2.2).

Each document is an HTML fragment under ``templates/documents/`` filled from a ``CaseFile``.
``applies`` says whether the case has the document (the dossier includes those); ``missing``
lists, in Chinese, what the document needs that the case lacks -- the printed document says so too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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


def _always(f: CaseFile) -> bool:
    return True


def _nothing(f: CaseFile) -> list[str]:
    return []


def _registration_missing(f: CaseFile) -> list[str]:
    gaps = []
    if not f.applicants:
        gaps.append("申请人")
    if not f.respondents:
        gaps.append("被申请人")
    return gaps


DOCUMENTS: list[DocumentSpec] = [
    DocumentSpec("registration", "人民调解受理登记表", 1, True, _always, _registration_missing),
]

BY_KEY = {d.key: d for d in DOCUMENTS}


def document(key: str) -> DocumentSpec | None:
    return BY_KEY.get(key)
