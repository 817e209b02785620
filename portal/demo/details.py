"""演示数据：各承办单位办理表单的专有字段（按字段名给出合理的示例值）。"""
from __future__ import annotations

from datetime import date, timedelta

from portal.services.departments import DeptSpec, FieldType

TEXT_SAMPLES = {
    "stability_unit": ["城关镇人民政府", "县住房和城乡建设局", "石门镇综治中心"],
    "stability_person": ["李志明（镇党委副书记）", "王建华（派出所所长）", "周国强（村党支部书记）"],
    "leader_in_charge": ["王副县长", "镇党委书记张德华", "镇长刘永刚"],
    "units_coordinated": ["县人社局、县公安局", "县住建局、属地镇政府", "县信访局、县司法局"],
    "reply_no": ["示信复〔2026〕15号", "示信复〔2026〕27号"],
    "cause_of_action": ["民间借贷纠纷", "买卖合同纠纷", "房屋租赁合同纠纷", "生命权、身体权、健康权纠纷"],
    "court_ref_no": ["(2026)示0101民诉前调118号", "(2026)示0101民诉前调245号"],
    "accident_report_no": ["示公交认字〔2026〕第00123号", "示公交认字〔2026〕第00388号"],
    "insurer": ["中国人民财产保险示范县支公司", "中国平安财产保险示范县支公司", "太平洋财产保险示范县支公司"],
    "employer_name": ["示范县宏达建筑劳务有限公司", "示范县鑫源服装厂", "示范县顺通物流有限公司"],
    "business_name": ["示范县惠民超市", "悦动健身会所", "示范县好运家电城"],
    "parcel": ["二组老屋基东侧", "三组水井湾地块", "一组村道北侧菜地"],
    "title_no": ["示不动产权第0012345号", "示不动产权第0023456号"],
    "contract_no": ["示农经权证字第0102号", "示农承字第0315号"],
    "project_name": ["锦绣家园小区", "滨江花园小区", "城南安置房二期"],
    "institution": ["示范县人民医院", "示范县中医院", "城关镇卫生院"],
    "operator_name": ["示范县客运有限公司", "示范县城区出租车公司", "示范县通达货运部"],
    "plate_no": ["示A·12345", "示A·D6789", "示B·33221"],
    "polluter": ["示范县石材加工厂", "城南烧烤一条街", "示范县畜禽养殖场"],
    "monitoring_no": ["示环监字〔2026〕第012号", "示环监字〔2026〕第031号"],
    "school": ["示范县第一中学", "城关镇中心小学", "示范县实验幼儿园"],
    "water_body": ["清水河城关段", "龙溪水库灌渠", "石门镇提灌站"],
    "forest_cert_no": ["示林证字〔2015〕第0456号", "示林证字〔2016〕第0789号"],
    "grid_members": ["网格员 孙丽", "网格员 陈七、网格长 刘五"],
    "village_group": ["二组", "三组", "五组"],
}

INT_RANGES = {"killed": (0, 1), "injured": (0, 3), "visitors": (1, 5), "area_sqm": (20, 400), "months_owed": (1, 8),
              "workers_involved": (1, 30), "households": (1, 40), "area_mu": (1, 30), "students": (1, 4),
              "veterans": (1, 3)}


def demo_details(rng, spec: DeptSpec, day: date) -> dict:
    """Plausible values for every field of ``spec``; numbers within the field's bounds, dates up to ``day``."""
    values: dict = {}
    for f in spec.fields:
        if f.name == "agreement_no":
            values[f.name] = f"({day:%Y})示人调字第{rng.randint(1, 400)}号"
        elif f.type == FieldType.TEXT:
            values[f.name] = rng.choice(TEXT_SAMPLES.get(f.name, ["—"]))
        elif f.type == FieldType.CHOICE:
            values[f.name] = rng.choice([key for key, _label in f.choices])
        elif f.type == FieldType.DATE:
            values[f.name] = day - timedelta(days=rng.randint(0, 5))
        elif f.type == FieldType.MONEY:
            values[f.name] = str(rng.randint(5, 800) * 100)
        else:
            values[f.name] = rng.randint(*INT_RANGES.get(f.name, (f.min or 0, f.min or 0)))
    return values
