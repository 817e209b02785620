"""Reference data every county needs: the dispute taxonomy and the county center."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import DeadlineRule, DisputeType, OrgKind, OrgUnit
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import DEFAULT_RULES
from portal.services.supervision import load_default_rules
from portal.workdays import DayUnit

# Two-level taxonomy recommended for the county (domain research §4.3 d).
TAXONOMY: list[tuple[str, str, list[str]]] = [
    ("01", "婚姻家庭", ["婚姻", "家庭", "继承", "赡养抚养扶养"]),
    ("02", "邻里", ["相邻关系", "噪音", "通行", "排水"]),
    ("03", "房屋宅基地", ["宅基地", "房屋买卖", "房屋租赁"]),
    ("04", "土地承包经营", ["土地承包", "土地流转", "集体三资"]),
    ("05", "山林土地水利权属", ["林地权属", "土地权属", "矿产权属", "水利界线"]),
    ("06", "征地拆迁", ["征地补偿", "拆迁安置"]),
    ("07", "劳动争议", ["欠薪", "工伤", "社会保险", "劳动关系"]),
    ("08", "消费", ["商品质量", "服务质量", "预付卡"]),
    ("09", "医疗", ["医患纠纷"]),
    ("10", "道路交通事故", ["人身伤害", "财产损失"]),
    ("11", "物业", ["物业费", "物业服务", "维修基金"]),
    ("12", "合同债务", ["民间借贷", "买卖合同", "建设工程"]),
    ("13", "损害赔偿", ["人身损害", "财产损害"]),
    ("14", "生产经营", ["企业改制", "经营纠纷"]),
    ("15", "环境", ["环境污染", "生态破坏"]),
    ("16", "村(社区)务管理", ["村务选举", "财务公开"]),
    ("17", "行政争议", ["行政执法", "行政许可", "行政处罚"]),
    ("18", "涉法涉诉", ["对裁判不满", "对执行不满"]),
    ("19", "其他", ["民族宗教", "教育", "退役军人", "金融", "其他"]),
]


def _unit(code: str, name: str, kind: OrgKind, parent: OrgUnit | None) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, path="/")
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


@transaction
def load_reference_data() -> None:
    """Add whatever of the taxonomy, the county and its center is missing (idempotent)."""
    for code, name, children in TAXONOMY:
        parent = db.session.scalar(select(DisputeType).where(DisputeType.code == code))
        if parent is None:
            parent = DisputeType(code=code, name=name)
            db.session.add(parent)
            db.session.flush()
        for i, child in enumerate(children, 1):
            child_code = f"{code}{i:02d}"
            if db.session.scalar(select(DisputeType.id).where(DisputeType.code == child_code)) is None:
                db.session.add(DisputeType(code=child_code, name=child, parent=parent))
    for tier, days in DEFAULT_RULES.items():
        exists = db.session.scalar(select(DeadlineRule.id).where(DeadlineRule.dispute_type_id.is_(None),
                                                                 DeadlineRule.complexity == tier))
        if exists is None:
            db.session.add(DeadlineRule(complexity=tier, days=days, unit=DayUnit.CALENDAR,
                                        note="县矛调中心默认时限"))
    load_default_rules()
    county = _unit("COUNTY", current_app.config["PORTAL_COUNTY_NAME"], OrgKind.COUNTY, None)
    _unit("CENTER", f"{county.name}矛盾纠纷调处化解中心", OrgKind.CENTER, county)
    audit("reference.load")


@transaction
def load_county(townships: list[dict], departments: list[dict], committees: list[dict],
                studios: list[dict]) -> dict[str, int]:
    """Build the county tree: townships, villages with their mediation committees and grids,
    stationed departments, industry committees and named studios. Adds only what is missing."""
    from portal.models import StationMode
    county = db.session.scalar(select(OrgUnit).where(OrgUnit.kind == OrgKind.COUNTY))
    counts = {"townships": 0, "villages": 0, "grids": 0, "departments": 0, "committees": 0, "studios": 0}
    for t in townships:
        town = _unit(t["code"], t["name"], OrgKind.TOWNSHIP, county)
        counts["townships"] += 1
        for v in t["villages"]:
            village = _unit(v["code"], v["name"], OrgKind.VILLAGE, town)
            _unit(f"{v['code']}C", f"{v['name']}人民调解委员会", OrgKind.COMMITTEE, village)
            counts["villages"] += 1
            counts["committees"] += 1
            for g in range(1, v["grids"] + 1):
                _unit(f"{v['code']}G{g}", f"{v['name']}第{g}网格", OrgKind.GRID, village)
                counts["grids"] += 1
    for d in departments:
        unit = _unit(d["code"], d["name"], OrgKind.DEPARTMENT, county)
        unit.station_mode = StationMode(d["station_mode"])
        counts["departments"] += 1
    for c in committees:
        _unit(c["code"], c["name"], OrgKind.COMMITTEE, county)
        counts["committees"] += 1
    for s in studios:
        parent = db.session.scalar(select(OrgUnit).where(OrgUnit.code == s.get("township"))) or county
        _unit(s["code"], s["name"], OrgKind.STUDIO, parent)
        counts["studios"] += 1
    audit("county.load", **counts)
    return counts
