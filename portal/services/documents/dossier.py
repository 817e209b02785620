"""The dossier (人民调解卷宗) of one case: one PDF in the archivist's order (domain.md §2.2).

Cover, 卷内目录 (its page numbers are computed by the layout itself: ``target-counter``), the
documents the case has, the attached scans and photos where they belong, a 卷宗情况说明 when
something is missing or the case is still open, and the back cover -- numbered on every page.
Attachments are checked here, not trusted: a missing file or one that is not a real image or PDF
becomes a note in the dossier and in the result, never a crash.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, render_template

from portal.models import AttachmentCategory, CaseAttachment, HandlingResult, LawfulChannel
from portal.pdf import Resources
from portal.services.attachments import PERSONAL_CATEGORIES, FileKind, attachment_path, identify
from portal.services.documents.casefile import CaseFile
from portal.services.documents.registry import DOCUMENTS

SLOT_TITLES = {
    1: "人民调解申请书或人民调解受理登记表", 2: "人民调解当事人权利义务告知书", 3: "当事人身份证明",
    4: "授权委托书", 5: "人民调解调查记录", 6: "人民调解证据材料", 7: "人民调解记录", 8: "人民调解协议书",
    9: "收条或汇款单等履行凭证", 10: "人民调解回访记录", 11: "司法确认有关材料", 12: "卷宗情况说明",
}
REQUIRED_SLOTS = (1, 2, 3, 7, 8)
CATEGORY_SLOTS = {AttachmentCategory.IDENTITY: 3, AttachmentCategory.AUTHORIZATION: 4,
                  AttachmentCategory.EVIDENCE: 6, AttachmentCategory.PERFORMANCE: 9,
                  AttachmentCategory.CONFIRMATION: 11, AttachmentCategory.EXPLANATION: 12}
DOCUMENT_STYLESHEETS = ("documents/_print.css",)                            # every printed document
DOSSIER_STYLESHEETS = (*DOCUMENT_STYLESHEETS, "documents/_dossier.css")      # and the dossier's own pages
MAX_IMAGE_PIXELS = 1800   # longest side of an embedded scan; larger ones are scaled down once
PDF_PAGE_SCALE = 1.5      # 108 dpi: a scanned page stays legible on paper


@dataclass
class TocRow:
    title: str
    anchor: str | None    # None: the document is missing
    note: str = ""


@dataclass
class AttachmentPart:
    attachment: CaseAttachment
    anchor: str
    images: list[str] = field(default_factory=list)   # resource names, one per page
    problem: str = ""
    withheld: bool = False    # personal papers in a dossier printed for a role that sees data masked


class _Explanation:
    """Where the 卷宗情况说明 goes (its text is the notes, complete once every part is checked)."""


EXPLANATION = _Explanation()


@dataclass
class Dossier:
    html: str
    resources: Resources
    notes: list[str]          # what the dossier says is missing or wrong, also shown to the user
    toc: list[TocRow]
    stylesheets: tuple[str, ...]


def stylesheets(names: tuple[str, ...]) -> tuple[str, ...]:
    """The CSS of the named stylesheets, handed to the renderer apart from the HTML so that it parses
    them once (portal.pdf), not with every document."""
    return tuple(render_template(name) for name in names)


def _page_cache(stored_name: str, page: int) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / ".pages" / f"{stored_name}.{page}.jpg"


def _jpeg(image) -> bytes:
    """A page image as JPEG: WeasyPrint embeds JPEG as it is (a PNG it re-encodes on every print)."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=82)
    return out.getvalue()


def _image_pages(data: bytes, kind: FileKind, stored_name: str) -> list[tuple[bytes, str]]:
    """A JPEG no larger than paper needs as it is; anything else converted once (and cached)."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as image:
        if kind.content_type == "image/jpeg" and max(image.size) <= MAX_IMAGE_PIXELS:
            return [(data, kind.content_type)]
    cached = _page_cache(stored_name, 1)
    if not cached.exists():
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS))
            _write_cache(cached, _jpeg(image))
    return [(cached.read_bytes(), "image/jpeg")]


def _pdf_pages(data: bytes, stored_name: str) -> list[tuple[bytes, str]]:
    """Each page of an attached PDF as an image (rendered once, then cached beside the uploads)."""
    import pypdfium2 as pdfium
    document = pdfium.PdfDocument(data)
    try:
        pages = []
        for index in range(len(document)):
            cached = _page_cache(stored_name, index + 1)
            if not cached.exists():
                _write_cache(cached, _jpeg(document[index].render(scale=PDF_PAGE_SCALE).to_pil()))
            pages.append((cached.read_bytes(), "image/jpeg"))
        return pages
    finally:
        document.close()


def _write_cache(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{hashlib.sha256(data).hexdigest()[:8]}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _attachment_part(a: CaseAttachment, resources: Resources) -> AttachmentPart:
    """The attachment's pages as images, checked again as the upload checked them (files on disk
    can go missing or be replaced)."""
    part = AttachmentPart(attachment=a, anchor=f"att-{a.id}")
    path = attachment_path(a)
    if not path.is_file():
        part.problem = f"附件《{a.title}》（{a.filename}）的文件缺失，未能编入卷宗"
        return part
    data = path.read_bytes()
    try:
        kind = identify(data)
        pages = _pdf_pages(data, a.stored_name) if kind.ext == "pdf" else _image_pages(data, kind, a.stored_name)
    except Exception:  # noqa: BLE001 -- any decoder error means the same thing to the archivist
        part.problem = f"附件《{a.title}》（{a.filename}）不是有效的图片或PDF文件，未能编入卷宗"
        return part
    for number, (body, mimetype) in enumerate(pages, start=1):
        name = f"att{a.id}p{number}"
        resources[name] = (body, mimetype)
        part.images.append(name)
    return part


def _cover(f: CaseFile) -> dict:
    close = f.last("close")
    dates = [s.held_at for s in f.sessions]
    start = min(dates) if dates else None
    end = f.agreement.agreed_on if f.agreement else (max(dates) if dates else None)
    return {
        "title": f"{'、'.join(p.name for p in f.applicants)}与{'、'.join(p.name for p in f.respondents)}"
                 f"{f.case.dispute_type.name}纠纷",
        "number": f.dossier_number, "mediators": f.mediators,
        "start": start, "end": end, "filed_by": close.by if close else "", "filed_on": f.closed_at,
        "retention": f.retention,
    }


def build_dossier(f: CaseFile) -> Dossier:
    """The dossier's HTML, the images it shows, its table of contents and its notes."""
    resources: Resources = {}
    notes: list[str] = []
    if not f.closed:
        notes.append(f"本案尚未结案（当前状态：{f.case.status.label}），本卷宗仅收录截至打印时已有的材料，不作归档。")
    toc: list[TocRow] = []
    parts: list[str | AttachmentPart] = []
    by_slot: dict[int, list[AttachmentPart]] = {}
    for category, items in f.attachments.items():
        for a in items:
            if f.masked and category in PERSONAL_CATEGORIES:  # a scan would show what the role may not see
                by_slot.setdefault(CATEGORY_SLOTS[category], []).append(
                    AttachmentPart(attachment=a, anchor="", withheld=True))
                continue
            part = _attachment_part(a, resources)
            by_slot.setdefault(CATEGORY_SLOTS[category], []).append(part)
            if part.problem:
                notes.append(part.problem + "。")
    for slot in range(1, 13):
        found = False
        for spec in DOCUMENTS:
            if spec.slot == slot and spec.applies(f):
                missing = spec.missing(f)
                toc.append(TocRow(spec.title, f"doc-{spec.key}", "内容不全" if missing else ""))
                if missing:
                    notes.append(f"《{spec.title}》缺少：{'、'.join(missing)}。")
                parts.append(render_template(spec.template, f=f, spec=spec, missing=missing))
                found = True
        if slot == 12 and notes:
            toc.append(TocRow(SLOT_TITLES[12], "doc-explanation"))
            parts.append(EXPLANATION)
        for part in by_slot.get(slot, []):
            if part.withheld:
                toc.append(TocRow(part.attachment.title, None, "含个人信息，未编入"))
                continue
            if part.problem:
                toc.append(TocRow(part.attachment.title, None, "文件无效或缺失"))
                continue
            toc.append(TocRow(part.attachment.title, part.anchor))
            parts.append(part)
            found = True
        if not found and slot in REQUIRED_SLOTS:
            if slot in (7, 8) and f.case.route != LawfulChannel.MEDIATION:  # referred at intake, never mediated
                toc.append(TocRow(SLOT_TITLES[slot], None, "已转法定途径，未调解"))
                continue
            if slot == 8 and f.handling_result not in (HandlingResult.WRITTEN_AGREEMENT,
                                                       HandlingResult.ORAL_AGREEMENT, None):
                toc.append(TocRow(SLOT_TITLES[8], None, f"未达成协议（{f.handling_result.label}）"))
                continue
            toc.append(TocRow(SLOT_TITLES[slot], None, "缺"))
            notes.append(f"必备材料“{SLOT_TITLES[slot]}”缺失，需补充后归档。")
    html = render_template("documents/dossier.html", f=f, cover=_cover(f), toc=toc, parts=parts, notes=notes,
                           explanation=EXPLANATION)
    return Dossier(html=html, resources=resources, notes=notes, toc=toc, stylesheets=stylesheets(DOSSIER_STYLESHEETS))
