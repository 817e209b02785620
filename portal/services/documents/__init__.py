"""The documents of people's mediation (人民调解文书) and the dossier (卷宗) they make."""
from portal.services.documents.casefile import FILE_KINDS, CaseFile, PartyView, StepRecord, load_case_file
from portal.services.documents.registry import DOCUMENTS, DocumentSpec, document

__all__ = ["FILE_KINDS", "CaseFile", "PartyView", "StepRecord", "load_case_file", "DOCUMENTS", "DocumentSpec",
           "document"]
