"""Papers attached to a case (卷宗材料): scans and photos as PNG or JPEG, documents as PDF.

Who may attach: the center's staff who keep a case's papers (``CASE_FILE_ROLES``: the window, the
dispatcher, the verifier) at any time, and whoever holds an open step of the case while they hold it
(the unit accepting, mediating or reporting back, a unit consulted) -- always on a case they can see.

A file is what its bytes are, not what its name says: a PNG or JPEG that Pillow verifies and decodes,
or a PDF that PDFium opens without a password and that is not encrypted. It is stored once per
content as ``<sha256>.<ext>`` in the upload folder: written to a temporary file and renamed into
place, and removed again if the transaction does not commit. Identity papers and powers of attorney
show ID numbers in full, so only roles that see personal data open them.
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AttachmentCategory, Case, CaseAttachment, WorkItem
from portal.roles import CASE_FILE_ROLES, sees_personal_data
from portal.services import queries
from portal.services._tx import on_rollback, transaction
from portal.services.audit import audit
from portal.services.errors import DomainError, ValidationFailed, choice, required_text
from portal.services.locks import lock_case, lock_name

PERSONAL_CATEGORIES = frozenset({AttachmentCategory.IDENTITY, AttachmentCategory.AUTHORIZATION})
TOO_LARGE = _l("The file is larger than the %(limit)s allowed.")
NOT_A_PAPER = _l("Attach a scan or photo as PNG or JPEG, or a PDF: this file is none of them.")
NOT_A_PHOTO = _l("A photo must be a PNG or JPEG image: this file is not one, whatever its name says.")


class AttachmentNotAllowedError(DomainError):
    status_code = 403
    message = _l("Only the center's case staff and the unit holding a step of this case may attach papers to it.")


class AttachmentNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no such attached paper.")


class PersonalPapersError(DomainError):
    status_code = 403
    message = _l("Identity papers and powers of attorney are shown only to roles that see the parties' "
                 "personal data.")


class AttachmentFileMissingError(DomainError):
    status_code = 404
    message = _l("The file of this paper is missing from the upload folder; tell the administrator.")


@dataclass(frozen=True)
class FileKind:
    ext: str
    content_type: str
    pages: int


IMAGE_KINDS = {"PNG": FileKind("png", "image/png", 1), "JPEG": FileKind("jpg", "image/jpeg", 1),
               "MPO": FileKind("jpg", "image/jpeg", 1)}  # a camera's JPEG with a second picture inside


def identify(data: bytes) -> FileKind:
    """What the bytes really are: a PDF (its pages counted), a PNG or a JPEG; anything else is refused."""
    if b"%PDF-" in data[:1024]:
        return _pdf(data)
    return _image(data)


def _pdf(data: bytes) -> FileKind:
    import pypdfium2
    import pypdfium2.raw as pdfium_c
    try:
        doc = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise ValidationFailed(_l("The PDF cannot be opened: it is damaged or protected by a password."),
                               field="file") from None
    try:
        if pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1:
            raise ValidationFailed(_l("The PDF is encrypted: attach a copy without protection."), field="file")
        pages = len(doc)
        for i in range(pages):  # a page tree pointing nowhere fails here
            doc.get_page(i).close()
    except pypdfium2.PdfiumError:
        raise ValidationFailed(_l("The PDF cannot be opened: it is damaged or protected by a password."),
                               field="file") from None
    finally:
        doc.close()
    if pages < 1:
        raise ValidationFailed(_l("The PDF has no pages."), field="file")
    return FileKind("pdf", "application/pdf", pages)


_PILLOW_STRICTNESS = threading.Lock()


@contextmanager
def _strict_pillow():
    """Pillow as strict as it comes: WeasyPrint, once imported, tells Pillow to pad cut files and skip
    checksums (``LOAD_TRUNCATED_IMAGES``) for its own reading; an upload is checked without that.
    (A print rendering at this very moment in another thread would refuse a broken image, not pad it.)"""
    from PIL import ImageFile
    with _PILLOW_STRICTNESS:
        lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _image(data: bytes) -> FileKind:
    from PIL import Image
    try:
        with _strict_pillow(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_KINDS)) as image:
                kind = IMAGE_KINDS[image.format]
                image.verify()
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_KINDS)) as image:
                image.load()  # verify() decodes nothing: a truncated JPEG passes it
    except (OSError, SyntaxError, ValueError, EOFError, KeyError, struct.error,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(NOT_A_PAPER, field="file") from None
    return kind


def human_size(size: int) -> str:
    return f"{size / 1048576:g} MB" if size >= 1048576 else f"{size / 1024:g} KB"


def can_add_attachment(user, case: Case, steps: list[WorkItem] | None = None) -> bool:
    """The center's case staff, or whoever holds an open step of the case (of a case the user sees).
    ``steps``: every step of the case, when the caller has read them."""
    if CASE_FILE_ROLES & user.role_names:
        return True
    lanes = queries.lanes_for(user)
    return any(item.can_be_done_by(user, lanes) for item in queries.open_tasks(case.id, steps))


def _file_name(filename: str, kind: FileKind) -> str:
    """The uploaded name without any folder or control characters, at most 200 characters."""
    name = "".join(ch for ch in PurePath((filename or "").replace("\\", "/")).name if ch >= " ").strip()
    if not name:
        return f"attachment.{kind.ext}"
    suffix = PurePath(name).suffix[:10]
    return name if len(name) <= 200 else name[:200 - len(suffix)] + suffix


def attachment_path(attachment: CaseAttachment) -> Path:
    """Where the attachment's file lies (the dossier reads it from here)."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / attachment.stored_name


def store_file(stored_name: str, data: bytes) -> None:
    """Write the file under its content's name unless it is there already; undone on rollback."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored_name
    lock_name(f"attachment:{stored_name}")  # one writer per content: no upload removes a file another keeps
    if target.exists():
        return
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    on_rollback(lambda: target.unlink(missing_ok=True))


@transaction
def add_attachment(user, case_id: int, category: str, title: str, filename: str, data: bytes) -> CaseAttachment:
    """Attach a paper to a case the user works: checked for what it really is, stored once, audited."""
    case = lock_case(case_id)
    queries.check_case_visible(user, case.id)
    if not can_add_attachment(user, case):
        raise AttachmentNotAllowedError()
    return attach_file(user, case, category, title, filename, data)


def check_file(data: bytes, photo: bool = False) -> FileKind:
    """What an upload really is, within the size limit (``photo``: only a PNG or JPEG will do)."""
    if not data:
        raise ValidationFailed(_l("The file is empty."), field="file")
    limit = current_app.config["PORTAL_ATTACHMENT_MAX_BYTES"]
    if len(data) > limit:
        raise ValidationFailed(TOO_LARGE, field="file", limit=human_size(limit))
    if not photo:
        return identify(data)
    try:
        return _image(data)
    except ValidationFailed:
        raise ValidationFailed(NOT_A_PHOTO, field="file") from None


def check_paper(data: bytes) -> FileKind:
    """What an uploaded file is, or a refusal: empty, larger than the limit, or not a PNG, JPEG or PDF."""
    return check_file(data)


def attach_file(user, case: Case, category: str, title: str, filename: str, data: bytes,
                kind: FileKind | None = None) -> CaseAttachment:
    """``add_attachment`` inside the caller's transaction, for a case it holds (a grid member's
    report attaches its photos to the case it registers); ``kind``: what ``check_file`` found."""
    kind_of_paper = choice(AttachmentCategory, category, "category")
    title = required_text(title, "title")
    if len(title) > 200:
        raise ValidationFailed(_l("At most %(n)s characters."), field="title", n=200)
    kind = kind or check_file(data)
    attachment = save_paper(case, kind_of_paper, title, filename, data, kind, user.id)
    audit("case.attachment_add", user=user, case=case, attachment=attachment.id, category=kind_of_paper.value,
          content_type=kind.content_type, size=len(data), pages=kind.pages, sha256=attachment.stored_name[:64])
    return attachment


def save_paper(case: Case, category: AttachmentCategory, title: str, filename: str, data: bytes, kind: FileKind,
               uploaded_by_id: int) -> CaseAttachment:
    """Store a checked file once per content and add it to the case's papers (in the caller's transaction)."""
    digest = hashlib.sha256(data).hexdigest()
    store_file(f"{digest}.{kind.ext}", data)
    attachment = CaseAttachment(case_id=case.id, category=category, title=title,
                                filename=_file_name(filename, kind), stored_name=f"{digest}.{kind.ext}",
                                content_type=kind.content_type, size=len(data), pages=kind.pages,
                                uploaded_by_id=uploaded_by_id, uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    return attachment


def may_open(user, attachment: CaseAttachment) -> bool:
    return attachment.category not in PERSONAL_CATEGORIES or sees_personal_data(user.role_names)


@transaction
def open_attachment(user, attachment_id: int) -> tuple[CaseAttachment, Path]:
    """An attached paper of a case the user may see, and its file; the opening is audited."""
    attachment = db.session.get(CaseAttachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFoundError()
    case = queries.case_for(user, attachment.case_id)
    if not may_open(user, attachment):
        raise PersonalPapersError()
    path = attachment_path(attachment)
    if not path.is_file():
        raise AttachmentFileMissingError()
    audit("case.attachment_view", user=user, case=case, attachment=attachment.id)
    return attachment, path


def attachments_of(case_id: int) -> dict[AttachmentCategory, list[CaseAttachment]]:
    """The case's papers by category, in the dossier's order."""
    grouped: dict[AttachmentCategory, list[CaseAttachment]] = {c: [] for c in AttachmentCategory}
    for a in db.session.scalars(select(CaseAttachment).options(joinedload(CaseAttachment.uploaded_by))
                                .where(CaseAttachment.case_id == case_id).order_by(CaseAttachment.id)):
        grouped[a.category].append(a)
    return {c: items for c, items in grouped.items() if items}
