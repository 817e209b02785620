"""Roles as data: what each role may do, and which BPMN lanes it works.

``flask portal sync-roles`` makes the database match this table (idempotently).
Lane mappings are only added, never removed: administrators may map more
roles to a lane in the database.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

READ = [("can_read", "Worklist"), ("can_read", "Case"), ("menu_access", "Worklist"),
        ("menu_access", "FindCase"), ("menu_access", "Cases"), ("menu_access", "Notifications"),
        ("can_read", "Branch"), ("menu_access", "Assistance"), ("menu_access", "AidLedger"),
        ("menu_access", "RiskLedger")]
WORK = [*READ, ("can_work", "Case"), ("can_batch", "Print"), ("menu_access", "BatchPrint"), ("can_work", "Branch")]
REGISTER = [*WORK, ("can_register", "Case"), ("menu_access", "RegisterCase")]
# The county's figures under the "Analysis" menu (分析汇总), each reader's for their own territory:
# the dashboard for the center's director, dispatchers and verifiers, the townships and unit leaders;
# the process heat map for the center's staff; the units' scorecards for the center's staff and unit
# leaders; the monthly report for the center's staff and townships. Handlers, window clerks and grid
# members work cases; they do not read the figures.
ANALYSIS_MENU = [("menu_access", "Analysis")]
DASHBOARD = [("can_read", "Dashboard"), ("menu_access", "Dashboard")]
HEATMAP = [("can_read", "Heatmap"), ("menu_access", "ProcessHeatmap")]
SCORECARDS = [("can_read", "Scorecards"), ("menu_access", "Scorecards")]
MONTHLY_REPORT = [("can_read", "MonthlyReport"), ("menu_access", "MonthlyReport")]
ANALYSIS = [*ANALYSIS_MENU, *DASHBOARD, *HEATMAP, *SCORECARDS, *MONTHLY_REPORT]  # the center's staff: all
SUPERVISE = [*WORK, ("can_supervise", "Case"), ("menu_access", "RepeatParties")]
# 流动调: a grid member reports from the scene (a case at the township's window, or closed on the spot)
# and follows the own reports; nothing else beyond READ.
GRID_REPORT = [("can_report", "GridReport"), ("menu_access", "ReportFromScene"), ("menu_access", "MyGridReports")]
# Publishing a diagram with script tasks or pre/post-scripts: no role above has it; the Admin role
# holds it, and an administrator may grant it to another role in the security pages.
ALLOW_SCRIPTS = ("can_allow_scripts", "Processes")


@dataclass(frozen=True)
class RoleDef:
    name: str
    label: object
    permissions: list[tuple[str, str]]
    sees_personal_data: bool = False


ROLES = [
    RoleDef("intake_clerk", _l("Intake window clerk"), REGISTER, sees_personal_data=True),
    RoleDef("dispatcher", _l("Dispatcher"), [*WORK, *ANALYSIS], sees_personal_data=True),
    RoleDef("dept_handler", _l("Department handler"), WORK, sees_personal_data=True),
    RoleDef("mediator", _l("Mediator"), WORK, sees_personal_data=True),
    RoleDef("township_staff", _l("Township center staff"), [*WORK, *ANALYSIS_MENU, *DASHBOARD, *MONTHLY_REPORT],
            sees_personal_data=True),
    RoleDef("verifier", _l("Verifier"), [*WORK, *ANALYSIS]),
    RoleDef("director", _l("Center director"), [*SUPERVISE, *ANALYSIS]),
    RoleDef("unit_leader", _l("Unit leader"), [*WORK, *ANALYSIS_MENU, *DASHBOARD, *SCORECARDS],
            sees_personal_data=True),
    RoleDef("grid_member", _l("Grid member"), [*READ, *GRID_REPORT]),
    RoleDef("assistance_handler", _l("Assistance handler"), WORK, sees_personal_data=True),
]
ROLE_BY_NAME = {r.name: r for r in ROLES}

# BPMN lane name -> roles that work its tasks.
LANE_ROLES = {
    "受理窗口": ["intake_clerk"],
    "综合调度": ["dispatcher"],
    "承办单位": ["dept_handler", "mediator", "township_staff"],
    "核查督办": ["verifier", "director"],
    "中心主任": ["director"],
    "单位负责人": ["unit_leader"],  # supervision cards (not a BPMN lane: cards live beside the workflow)
    # The branches: assistance (each at its office, scoped by the unit) and risk control.
    "乡镇民政": ["township_staff"],
    "县民政局": ["assistance_handler"],
    "法律援助机构": ["assistance_handler"],
    "司法行政机关": ["unit_leader"],
    "办案机关": ["dept_handler", "unit_leader"],
    "司法救助审核小组": ["assistance_handler"],
    "综合研判": ["dispatcher", "director"],
    "属地乡镇": ["township_staff"],
}


def sees_personal_data(role_names: set[str]) -> bool:
    """True when one of the roles needs ID numbers and phones in full."""
    return "Admin" in role_names or any(
        ROLE_BY_NAME[n].sees_personal_data for n in role_names if n in ROLE_BY_NAME)

# Roles that see every case of the county (the center's own staff).
COUNTY_WIDE_ROLES = {"Admin", "intake_clerk", "dispatcher", "verifier", "director"}

# The center's staff who keep a case's papers whatever its step: the window takes them in, the
# dispatcher and the verifier add what arrives later (receipts, court papers) and when it is filed.
CASE_FILE_ROLES = {"intake_clerk", "dispatcher", "verifier"}
