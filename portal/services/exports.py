"""Lists as files: Excel (openpyxl) and CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese).

Each export takes the same filters as its page and reads through the same scoped queries, so a file
never holds more than the page would show; personal data is masked as on the page; every export is
audited (what, how many rows, whether unmasked). Headers are in Chinese whatever the reader's language
(the files go to offices); times are the county's local time; numbers are numbers in Excel.
"""
from __future__ import annotations

import csv
import enum
import functools
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Sequence

from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from portal.clock import utcnow
from portal.idcard import mask_id_number, mask_phone
from portal.models import BranchStatus, CardLevel
from portal.roles import sees_personal_data
from portal.services import queries
from portal.services._tx import transaction
from portal.services.aid.risk import BASES, LEVELS, STATES, risk_ledger
from portal.services.audit import audit
from portal.services.branches import branch_list
from portal.services.deadlines import local_today, utc_to_local
from portal.services.errors import ValidationFailed
from portal.services.scorecards import unit_scorecards


class ColumnKind(enum.Enum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"        # yuan, two decimals
    POINTS = "points"      # a score, two decimals
    PERCENT = "percent"    # a rate from 0 to 1
    DATETIME = "datetime"  # stored naive UTC, written in local time
    DATE = "date"


EXCEL_FORMATS = {ColumnKind.INT: "0", ColumnKind.MONEY: "#,##0.00", ColumnKind.POINTS: "0.00",
                 ColumnKind.PERCENT: "0.0%", ColumnKind.DATETIME: "yyyy-mm-dd hh:mm", ColumnKind.DATE: "yyyy-mm-dd"}
# A cell a spreadsheet would read as a formula (CSV injection): written as text, with a quote in CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: ColumnKind = ColumnKind.TEXT
    width: int = 14


@dataclass
class Table:
    """A list as a file has it: a title (the sheet's name), its columns and rows; ``groups`` is an
    optional header row above the columns: (label, how many columns it spans)."""

    title: str
    columns: list[Column]
    rows: list[Sequence[Any]]
    groups: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines written under the table


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    mimetype: str


FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed(_l("Unknown file format."), field="format")
    return fmt


def _text(value: Any, kind: ColumnKind) -> str:
    """A cell as CSV writes it."""
    if value is None or value == "":
        return ""
    if kind == ColumnKind.DATETIME:
        return utc_to_local(value).strftime("%Y-%m-%d %H:%M")
    if kind == ColumnKind.DATE:
        return value.isoformat()
    if kind == ColumnKind.PERCENT:
        return f"{Decimal(value) * 100:.1f}%"
    if kind in (ColumnKind.MONEY, ColumnKind.POINTS):
        return f"{Decimal(value):.2f}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if table.groups:
        writer.writerow([cell for label, span in table.groups for cell in [label] + [""] * (span - 1)])
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([_text(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    for note in table.notes:
        writer.writerow([note])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _excel_value(value: Any, kind: ColumnKind) -> Any:
    if value is None or value == "":
        return None
    if kind == ColumnKind.DATETIME:
        return utc_to_local(value)
    if kind in (ColumnKind.MONEY, ColumnKind.POINTS, ColumnKind.PERCENT):
        return float(value)  # Excel keeps doubles; the cell's format shows the decimals
    if kind == ColumnKind.INT:
        return int(value)
    if kind == ColumnKind.DATE:
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31]
    bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    row = 1
    if table.groups:
        col = 1
        for label, span in table.groups:
            sheet.cell(row, col, label).font = bold
            sheet.cell(row, col).alignment = centred
            if span > 1:
                sheet.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
            col += span
        row += 1
    for col, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row, col, column.header)
        cell.font, cell.alignment = bold, centred
        sheet.column_dimensions[get_column_letter(col)].width = column.width
    sheet.freeze_panes = sheet.cell(row + 1, 1)
    for values in table.rows:
        row += 1
        for col, (value, column) in enumerate(zip(values, table.columns, strict=True), start=1):
            cell = sheet.cell(row, col)
            cell.value = _excel_value(value, column.kind)
            if column.kind == ColumnKind.TEXT and cell.value is not None:
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif column.kind in EXCEL_FORMATS:
                cell.number_format = EXCEL_FORMATS[column.kind]
    for note in table.notes:
        row += 1
        sheet.cell(row, 1, note).data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_file(table: Table, fmt: str, stem: str) -> ExportFile:
    """The table in ``fmt``, named ``stem``-date.ext."""
    content = to_xlsx(table) if check_format(fmt) == "xlsx" else to_csv(table)
    return ExportFile(content, f"{stem}-{local_today():%Y%m%d}.{fmt}", FORMATS[fmt])


def _exported(user, what: str, fmt: str, build: Callable[[], Table], unmasked: bool = False) -> ExportFile:
    """Build the table (once the format is known to be one we write), write it, audit the export."""
    check_format(fmt)
    table = build()
    audit("export", user=user, what=f"{what}.{fmt}", rows=len(table.rows), unmasked=unmasked)
    return as_file(table, fmt, what)


def in_chinese(build: Callable[..., Table]) -> Callable[..., Table]:
    """Build a table with the catalog's Chinese, whatever language the reader's pages are in (labels
    are made text while Chinese is in force)."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        with force_locale("zh"):
            table = build(*args, **kwargs)
            table.rows = [[str(v) if isinstance(v, LazyString) else v for v in row] for row in table.rows]
            table.groups = [(str(label), span) for label, span in table.groups]
            table.notes = [str(note) for note in table.notes]
            return table
    return wrapper


# -- the lists -------------------------------------------------------------------------------------

def _parties(case, full: bool) -> tuple[str, str, str]:
    return ("、".join(p.name for p in case.parties),
            "、".join((p.id_number or "") if full else mask_id_number(p.id_number) for p in case.parties),
            "、".join((p.phone or "") if full else mask_phone(p.phone) for p in case.parties))


@in_chinese
def case_table(user, filters: queries.Filters | None, full: bool) -> Table:
    cases = queries.unit_cases(user, filters, limit=10000, parties=True)
    columns = [Column(_("Case code"), width=16), Column(_("Subject"), width=30), Column(_("Dispute type")),
               Column(_("Township")), Column(_("Case status")), Column(_("Lead unit"), width=20),
               Column(_("Registered on"), ColumnKind.DATETIME, 17), Column(_("Deadline"), ColumnKind.DATETIME, 17),
               Column(_("Closed on"), ColumnKind.DATETIME, 17),
               Column(_("Amount in dispute (yuan)"), ColumnKind.MONEY),
               Column(_("Parties"), width=20), Column(_("ID number"), width=22), Column(_("Phone"), width=16)]
    rows = [[c.code, c.title, c.dispute_type.name, c.township.name, c.status.label,
             c.assigned_unit.name if c.assigned_unit else "", c.registered_at, c.due_at, c.closed_at, c.amount,
             *_parties(c, full)] for c in cases]
    return Table(_("Cases"), columns, rows)


@transaction
def export_cases(user, filters: queries.Filters | None, fmt: str) -> ExportFile:
    """The unit's cases (the worklist's "all cases of my unit"), personal data masked for roles without
    the right."""
    full = sees_personal_data(user.role_names)
    return _exported(user, "cases", fmt, lambda: case_table(user, filters, full), unmasked=full)


@in_chinese
def worklist_table(user, tab: str, filters: queries.Filters | None) -> Table:
    items = queries.worklist(user, tab, filters, limit=10000)
    columns = [Column(_("Case code"), width=16), Column(_("Subject"), width=30), Column(_("Dispute type")),
               Column(_("Township")), Column(_("Step"), width=18), Column(_("Unit"), width=20)]
    if tab == "done":
        columns += [Column(_("Completed"), ColumnKind.DATETIME, 17), Column(_("Case status"))]
        rows = [[i.case.code, i.case.title, i.case.dispute_type.name, i.case.township.name, i.name,
                 i.org_unit.name if i.org_unit else "", i.completed_at, i.case.status.label] for i in items]
    else:
        columns += [Column(_("Received"), ColumnKind.DATETIME, 17), Column(_("Deadline"), ColumnKind.DATETIME, 17),
                    Column(_("Overdue")), Column(_("Claimed by"))]
        now = utcnow()
        rows = [[i.case.code, i.case.title, i.case.dispute_type.name, i.case.township.name, i.name,
                 i.org_unit.name if i.org_unit else "", i.created_at, i.due_at,
                 _("Yes") if i.due_at and i.due_at < now else "",
                 (i.claimed_by.first_name or i.claimed_by.username) if i.claimed_by else ""] for i in items]
    titles = {"todo": _("To do"), "supervised": _("Supervision cards"), "done": _("Done")}
    return Table(titles[tab], columns, rows)


@transaction
def export_worklist(user, tab: str, filters: queries.Filters | None, fmt: str) -> ExportFile:
    """The user's worklist tab (to do, supervision cards, done) as the page lists it."""
    if tab not in ("todo", "supervised", "done"):
        raise ValidationFailed(_l("Unknown worklist tab."), field="tab")
    return _exported(user, f"worklist-{tab}", fmt, lambda: worklist_table(user, tab, filters))


@in_chinese
def aid_ledger_table(user, filters) -> Table:
    branches = branch_list(user, filters, limit=100000)
    columns = [Column(_("Number"), width=24), Column(_("Kind")), Column(_("Person")), Column(_("Case"), width=16),
               Column(_("Township")), Column(_("Started"), ColumnKind.DATETIME, 17), Column(_("State"), width=18),
               Column(_("Amount requested (yuan)"), ColumnKind.MONEY),
               Column(_("Granted (yuan)"), ColumnKind.MONEY), Column(_("Paid (yuan)"), ColumnKind.MONEY),
               Column(_("Paid on"), ColumnKind.DATETIME, 17)]

    def state(b):
        if b.status == BranchStatus.OPEN:
            return b.current_step or _("Waiting")
        return b.outcome.label if b.outcome else b.status.label
    rows = [[b.number or "", b.kind.label, b.person_name, b.case.code, b.case.township.name, b.started_at, state(b),
             b.amount_requested if b.kind.pays_money else None, b.amount_granted if b.kind.pays_money else None,
             b.amount_paid if b.kind.pays_money else None, b.paid_at] for b in branches]
    return Table(_("Assistance ledger"), columns, rows)


@transaction
def export_aid_ledger(user, filters, fmt: str) -> ExportFile:
    """The assistance ledger with the page's filters (kind, state, township, year)."""
    return _exported(user, "aid-ledger", fmt, lambda: aid_ledger_table(user, filters))


@in_chinese
def risk_ledger_table(user, township_id: int | None, state: str | None) -> Table:
    rows = risk_ledger(user, township_id=township_id, state=state)
    states = {"resolved": _("Resolved"), "overdue": _("Overdue"), "closed": _("Finished"), "open": _("Under control")}

    def person(p):
        return f"{p['name']}（{p['post']}）" if p else ""
    columns = [Column(_("Person")), Column(_("Case"), width=16), Column(_("Township")), Column(_("Risk level")),
               Column(_("Basis"), width=24), Column(_("Risk notice number"), width=24),
               Column(_("Responsible for stability"), width=22), Column(_("Responsible for resolution"), width=22),
               Column(_("Follow-ups"), ColumnKind.INT), Column(_("Last follow-up")), Column(_("State")),
               Column(_("Step"), width=18), Column(_("Next due"), ColumnKind.DATETIME, 17),
               Column(_("Started"), ColumnKind.DATETIME, 17)]
    table_rows = [[r.person, r.case_code, r.township, str(LEVELS.get(r.level, r.level or "")),
                   str(BASES.get(r.basis, r.basis or "")), r.letter_number or "", person(r.stability),
                   person(r.resolution), r.rounds,
                   f"{r.last_followup_on} {STATES.get(r.last_state, '')}".strip() if r.last_followup_on else "",
                   states[r.state], r.step or "", r.next_due, r.started_at] for r in rows]
    return Table(_("Risk-control ledger"), columns, table_rows)


@transaction
def export_risk_ledger(user, township_id: int | None, state: str | None, fmt: str) -> ExportFile:
    """The risk-control ledger (稳定台账) with the page's filters."""
    return _exported(user, "risk-ledger", fmt, lambda: risk_ledger_table(user, township_id, state))


@in_chinese
def scorecard_table(user, period, kind) -> Table:
    cards = unit_scorecards(user, period, kind)
    columns = [Column(_("Rank"), ColumnKind.INT, 6), Column(_("Unit assessed"), width=24), Column(_("Kind of unit")),
               Column(_("Cases handled"), ColumnKind.INT, 8), Column(_("Cases closed"), ColumnKind.INT, 8),
               Column(_("Closure rate"), ColumnKind.PERCENT, 10), Column(_("Closed on time"), ColumnKind.INT, 10),
               Column(_("On-time rate"), ColumnKind.PERCENT, 10),
               Column(_("Mediated successfully"), ColumnKind.INT, 10),
               Column(_("Success rate"), ColumnKind.PERCENT, 10), Column(_("Rated"), ColumnKind.INT, 8),
               Column(_("Satisfied or basically satisfied"), ColumnKind.INT, 10),
               Column(_("Satisfaction rate"), ColumnKind.PERCENT, 10),
               Column(_("Returned by the verifier"), ColumnKind.INT, 10),
               Column(_("Refused at acceptance"), ColumnKind.INT, 10),
               Column(_("Ordinary supervision"), ColumnKind.INT, 10), Column(_("Yellow card"), ColumnKind.INT, 8),
               Column(_("Red card"), ColumnKind.INT, 8), Column(_("Score"), ColumnKind.POINTS, 8)]
    rows = [[c.rank, c.name, c.kind.label, c.cases, c.closed, c.closure_rate.value, c.on_time, c.on_time_rate.value,
             c.success, c.success_rate.value, c.rated, c.satisfied, c.satisfaction_rate.value, c.verify_returns,
             c.refusals, c.cards[CardLevel.NORMAL], c.cards[CardLevel.YELLOW], c.cards[CardLevel.RED], c.score]
            for c in cards]
    notes = [_("Cases registered from %(start)s to %(end)s, as they stand on %(today)s.", start=period.start,
               end=period.end, today=local_today())]
    return Table(_("Unit scorecards"), columns, rows, notes=notes)


@transaction
def export_scorecards(user, period, kind, fmt: str) -> ExportFile:
    """The scorecards of the page (the same period, kind of unit and scoping), ranked."""
    return _exported(user, "scorecards", fmt, lambda: scorecard_table(user, period, kind))
