"""A citizen files a dispute online (网上申请): no login, the portal's online desk registers it.

The filing becomes a case through the window's own ``register_case`` (source channel online), with
the applicant's consent to online handling and to electronic service recorded and the attached
files checked like every attachment -- all in one transaction: a refusal saves nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.idcard import is_valid_id_number
from portal.models import (
    AttachmentCategory,
    Case,
    ConsentChannel,
    DisputeType,
    PartyConsent,
    PartyKind,
    PortalUser,
    SourceChannel,
)
from portal.services._tx import transaction
from portal.services.attachments import FileKind, check_paper, human_size, save_paper
from portal.services.audit import audit
from portal.services.cases import IntakeData, PartyData, register_case
from portal.services.errors import ValidationFailed, required_text

ONLINE_DESK = "online_desk"  # the account that registers what citizens file online (it cannot log in)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
NO_CONSENT = _l("Filing online needs both consents: to handling your dispute online and to receiving "
                "documents electronically. If you do not agree, bring your dispute to the mediation center's "
                "window or your township's; nothing was saved.")


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class OnlineFiling:
    """What the citizen typed on the public filing page."""

    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    respondent_name: str
    dispute_type_id: int
    township_id: int
    facts: str
    requests: str
    consent_online: bool
    consent_e_service: bool
    applicant_address: str = ""
    respondent_phone: str = ""
    respondent_address: str = ""
    village_id: int | None = None
    place_kind: str = "residence"
    place_detail: str = ""
    uploads: list[Upload] = field(default_factory=list)


def online_desk() -> PortalUser:
    user = db.session.scalar(select(PortalUser).where(PortalUser.username == ONLINE_DESK))
    if user is None:
        raise ValidationFailed(_l("Online filing is not set up; an administrator must run the portal's setup."))
    return user


@transaction
def create_online_desk() -> None:
    """The online desk's account, inactive and without roles (idempotent; part of the portal's setup)."""
    if db.session.scalar(select(PortalUser.id).where(PortalUser.username == ONLINE_DESK)) is not None:
        return
    sm = current_app.appbuilder.sm
    desk = sm.add_user(ONLINE_DESK, "网上申请", "", f"{ONLINE_DESK}@portal.local", [], commit=False)
    desk.active = False
    audit("user.create", username=ONLINE_DESK, roles=[], org=None)


def check_mobile(phone: str, field_name: str) -> str:
    phone = (phone or "").strip().replace(" ", "")
    if not MOBILE.match(phone):
        raise ValidationFailed(_l("Give an 11-digit mobile number (it is how you follow the case)."),
                               field=field_name)
    return phone


def check_uploads(uploads: list[Upload]) -> list[FileKind]:
    """Each file checked for what it really is and its size; refused as a whole on the first bad one."""
    most = current_app.config["PORTAL_PUBLIC_MAX_FILES"]
    if len(uploads) > most:
        raise ValidationFailed(_l("Attach at most %(n)s files at a time."), field="files", n=most)
    kinds = []
    for upload in uploads:
        try:
            kinds.append(check_paper(upload.data))
        except ValidationFailed as exc:
            raise ValidationFailed(_l("“%(name)s”: %(reason)s"), field="files", name=upload.filename or "?",
                                   reason=str(exc)) from None
    return kinds


def _check(filing: OnlineFiling) -> None:
    if not (filing.consent_online and filing.consent_e_service):
        raise ValidationFailed(NO_CONSENT, field="consent_online")
    required_text(filing.applicant_name, "applicant_name")
    if not is_valid_id_number(filing.applicant_id_number):
        raise ValidationFailed(_l("Not a valid ID number: check the 18 characters and the last (check) digit."),
                               field="applicant_id_number")
    check_mobile(filing.applicant_phone, "applicant_phone")
    required_text(filing.respondent_name, "respondent_name")
    if filing.respondent_phone.strip() and not MOBILE.match(filing.respondent_phone.strip()) and \
            not re.match(r"^0\d{2,3}-?\d{7,8}$", filing.respondent_phone.strip()):
        raise ValidationFailed(_l("Not a valid phone number: 11-digit mobile or area code plus number."),
                               field="respondent_phone")
    required_text(filing.facts, "facts")
    required_text(filing.requests, "requests")


def _intake(filing: OnlineFiling) -> IntakeData:
    dtype = db.session.get(DisputeType, filing.dispute_type_id)
    applicant, respondent = filing.applicant_name.strip(), filing.respondent_name.strip()
    title = f"{applicant}与{respondent}{dtype.name if dtype else ''}"[:200]
    return IntakeData(
        title=title, dispute_type_id=filing.dispute_type_id, township_id=filing.township_id,
        village_id=filing.village_id or None, place_kind=filing.place_kind, place_detail=filing.place_detail,
        facts=filing.facts, requests=filing.requests, amount=None, people_count=2,
        source_channel=SourceChannel.ONLINE.value,
        parties=[PartyData(PartyKind.APPLICANT.value, applicant, filing.applicant_id_number.strip().upper(),
                           check_mobile(filing.applicant_phone, "applicant_phone"), filing.applicant_address),
                 PartyData(PartyKind.RESPONDENT.value, respondent, "", filing.respondent_phone.strip(),
                           filing.respondent_address)])


@transaction
def file_dispute(filing: OnlineFiling) -> Case:
    """Register a citizen's online filing as a case at the window; the applicant's consents and files
    go with it. Refused with the reason (and nothing saved) when a consent, a number or a file is wrong."""
    _check(filing)
    kinds = check_uploads(filing.uploads)
    desk = online_desk()
    # the window's own registration, inside this transaction (its decorator would commit on its own)
    case = register_case.__wrapped__(desk, _intake(filing))
    applicant = case.parties_of(PartyKind.APPLICANT)[0]
    now = utcnow()
    db.session.add(PartyConsent(party_id=applicant.id, case_id=case.id, online_handling=True, e_service=True,
                                channel=ConsentChannel.ONLINE_FILING, given_at=now, recorded_by_id=desk.id))
    saved = [save_paper(case, AttachmentCategory.EVIDENCE, str(_l("Material filed online by the applicant")),
                        upload.filename, upload.data, kind, desk.id)
             for upload, kind in zip(filing.uploads, kinds, strict=True)]
    audit("public.file", user=desk, case=case, code=case.code, attachments=[a.id for a in saved],
          sizes=[human_size(a.size) for a in saved])
    return case
