"""The monthly 矛盾纠纷排查调处情况表: a month's disputes by category and level, for the county or a township.

Rows are the level-1 dispute types (and a total row); the columns are grouped by the case's complexity
tier as triage set it (简单、一般、复杂、疑难; a case never triaged, e.g. one sent to its lawful channel at the
window, is "not graded"), each group counting:

- 排查: cases registered in the month;
- 调处: cases closed in the month (whenever they were registered);
- 成功: of those closed, the ones mediated successfully (a written or oral agreement, or settled by the
  parties and withdrawn).

Counted in the database over the cases the user may see; printed as a landscape PDF and as Excel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as when

from portal.extensions import db
from portal.models import Case, CaseStatus, Complexity, DisputeType, OrgKind, OrgUnit
from portal.pdf import render_pdf
from portal.roles import COUNTY_WIDE_ROLES
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_today
from portal.services.errors import ValidationFailed
from portal.services.exports import Column, ColumnKind, ExportFile, Table, as_file, check_format, in_chinese
from portal.services.queries import visible_cases_filter
from portal.services.scorecards import Period
from portal.services.scoring import SUCCESS

TIERS: list[str | None] = [c.value for c in Complexity] + [None]
TIER_NAMES = {"simple": "简单", "general": "一般", "complex": "复杂", "difficult": "疑难", None: "未定级"}


@dataclass
class Counts:
    registered: int = 0   # 排查
    handled: int = 0      # 调处
    success: int = 0      # 成功

    def add(self, other: "Counts") -> None:
        self.registered += other.registered
        self.handled += other.handled
        self.success += other.success

    @property
    def handling_rate(self) -> Decimal | None:
        """调处率 = 调处 ÷ 排查 (may pass 100%: cases of earlier months close too)."""
        return Decimal(self.handled) / self.registered if self.registered else None

    @property
    def success_rate(self) -> Decimal | None:
        """成功率 = 成功 ÷ 调处."""
        return Decimal(self.success) / self.handled if self.handled else None


@dataclass
class ReportRow:
    code: str
    name: str
    by_tier: dict[str | None, Counts] = field(default_factory=lambda: {t: Counts() for t in TIERS})

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.by_tier.values():
            total.add(counts)
        return total


@dataclass
class MonthlyReport:
    year: int
    month: int
    township: OrgUnit | None
    rows: list[ReportRow]
    total: ReportRow
    county: str
    made_on: date

    @property
    def period(self) -> Period:
        return Period.month(self.year, self.month)

    @property
    def area(self) -> str:
        """Whose report it is: the township's name, or the county's."""
        return self.township.name if self.township is not None else self.county


def parse_month(text: str | None) -> tuple[int, int]:
    """"2026-03" as (2026, 3); last month when none is given."""
    if not text:
        first = local_today().replace(day=1)
        return (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise ValidationFailed(_l("Give the month as year-month, e.g. 2026-03."), field="month") from None
    return year, month


def report_township(user, township_id: int | None) -> OrgUnit | None:
    """The township the report covers: a township's own staff always get their township; the center
    chooses one, or none for the whole county."""
    if not COUNTY_WIDE_ROLES & user.role_names and user.org_unit is not None:
        above = [int(p) for p in user.org_unit.path.strip("/").split("/") if p.isdigit()]
        own = db.session.scalar(select(OrgUnit).where(OrgUnit.kind == OrgKind.TOWNSHIP, OrgUnit.id.in_(above)))
        if own is not None:
            return own
    if not township_id:
        return None
    township = db.session.get(OrgUnit, township_id)
    if township is None or township.kind != OrgKind.TOWNSHIP:
        raise ValidationFailed(_l("Choose a township."), field="township_id")
    return township


def monthly_report(user, year: int, month: int, township_id: int | None = None) -> MonthlyReport:
    """The month's figures by level-1 dispute type and complexity tier (see the module's docstring)."""
    township = report_township(user, township_id)
    start, end = Period.month(year, month).bounds()
    registered = and_(Case.registered_at >= start, Case.registered_at < end)
    closed = and_(Case.status == CaseStatus.CLOSED, Case.closed_at >= start, Case.closed_at < end)
    category = func.coalesce(DisputeType.parent_id, DisputeType.id)
    query = select(category, Case.complexity, func.sum(when((registered, 1), else_=0)),
                   func.sum(when((closed, 1), else_=0)),
                   func.sum(when((and_(closed, Case.handling_result.in_(SUCCESS)), 1), else_=0))) \
        .join(DisputeType, DisputeType.id == Case.dispute_type_id) \
        .where(or_(registered, closed), visible_cases_filter(user)).group_by(category, Case.complexity)
    if township is not None:
        query = query.where(Case.township_id == township.id)
    rows = {t.id: ReportRow(t.code, t.name) for t in db.session.scalars(
        select(DisputeType).where(DisputeType.parent_id.is_(None)).order_by(DisputeType.code))}
    total = ReportRow("", "合计")
    for type_id, tier, n_registered, n_handled, n_success in db.session.execute(query):
        counts = Counts(int(n_registered or 0), int(n_handled or 0), int(n_success or 0))
        tier = tier if tier in TIER_NAMES else None
        rows[type_id].by_tier[tier].add(counts)
        total.by_tier[tier].add(counts)
    return MonthlyReport(year, month, township, list(rows.values()), total,
                         current_app.config["PORTAL_COUNTY_NAME"], local_today())


def report_html(report: MonthlyReport) -> str:
    return render_template("documents/monthly_report.html", r=report, tiers=TIERS, tier_names=TIER_NAMES)


@transaction
def print_monthly_report(user, year: int, month: int, township_id: int | None = None) -> tuple[bytes, str]:
    """(PDF, file name) of the month's report; the print is audited."""
    report = monthly_report(user, year, month, township_id)
    pdf = render_pdf(report_html(report))
    audit("report.print", user=user, report="monthly", month=f"{year}-{month:02d}", area=report.area)
    return pdf, f"{report.area}矛盾纠纷排查调处情况表-{year}年{month}月.pdf"


@in_chinese
def report_table(report: MonthlyReport) -> Table:
    counted = [Column(_("Disputes found"), ColumnKind.INT, 7), Column(_("Disputes handled"), ColumnKind.INT, 7),
               Column(_("Handled successfully"), ColumnKind.INT, 7)]
    columns = [Column(_("Dispute category"), width=16)] + counted * len(TIERS) + counted + [
        Column(_("Handling rate"), ColumnKind.PERCENT, 9), Column(_("Success rate of handled"), ColumnKind.PERCENT, 9)]
    groups = [("", 1)] + [(TIER_NAMES[t], 3) for t in TIERS] + [(_("Total"), 5)]

    def line(row: ReportRow, name: str) -> list:
        cells = [n for t in TIERS for n in (row.by_tier[t].registered, row.by_tier[t].handled, row.by_tier[t].success)]
        total = row.total
        return [name, *cells, total.registered, total.handled, total.success, total.handling_rate, total.success_rate]
    rows = [line(r, r.name) for r in report.rows] + [line(report.total, _("Total"))]
    notes = [_("%(area)s, %(year)s-%(month)02d. Levels are the complexity tiers set at triage.", area=report.area,
               year=report.year, month=report.month)]
    return Table(_("Monthly dispute report"), columns, rows, groups=groups, notes=notes)


@transaction
def export_monthly_report(user, year: int, month: int, township_id: int | None, fmt: str) -> ExportFile:
    """The month's report as Excel (or CSV); the export is audited."""
    check_format(fmt)
    report = monthly_report(user, year, month, township_id)
    audit("export", user=user, what=f"monthly-report.{fmt}", rows=len(report.rows) + 1, unmasked=False)
    return as_file(report_table(report), fmt, f"monthly-report-{year}-{month:02d}")
