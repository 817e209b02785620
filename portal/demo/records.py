# ruff: noqa: E501  (sample Chinese prose: ruff counts each character twice, and breaking it mid-clause reads worse)
"""演示数据：卷宗里的文字——当事人的民族和职业、调解记录的陈述、调查笔录（问/答）、协议的事实、
内容与履行方式，按纠纷类别各有不同，好让打印出的卷宗读起来像真的；以及据此填写的调解记录和调查记录。

``{a}`` 申请人，``{r}`` 被申请人，``{amt}`` 金额（元），``{half}``、``{small}`` 其一半和一小部分，
``{monthly}`` 每月数额，``{mu}`` 亩数，``{village}`` 村（社区），``{dtype}`` 纠纷类型名。
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.demo import county
from portal.models import ResolutionMode, SessionResult
from portal.services.investigations import InvestigationData
from portal.services.referrals import ServiceData
from portal.services.sessions import SessionData

ETHNICITIES = ["汉族"] * 12 + ["苗族"] * 4 + ["侗族"] * 2 + ["布依族", "水族", "土家族"]
OCCUPATIONS = ["务农", "务农", "务农", "个体工商户", "外出务工", "退休职工", "自由职业", "货车司机",
               "示范县顺通物流有限公司职工", "城关镇中心小学教师", "村民小组长", "无业"]
FAMILY_OCCUPATIONS = {  # (applicant, respondent) pools where the dispute says who the parties are
    "labour": (["建筑工人", "钢筋工", "砌筑工", "服装厂缝纫工"], ["包工头（个体）", "示范县宏达建筑劳务有限公司项目负责人"]),
    "consumer": (OCCUPATIONS, ["个体工商户", "示范县惠民超市经营者", "物业公司项目经理"]),
    "medical": (OCCUPATIONS, ["示范县人民医院医务科科长", "城关镇卫生院院长"]),
    "debt": (["个体工商户", "务农", "退休职工"], ["个体工商户", "养殖户", "小型装修队负责人"]),
}

# Dispute type code (level 1) -> the family of texts it takes.
FAMILY_OF = {"01": "family", "02": "neighbour", "03": "neighbour", "04": "land", "05": "land", "06": "land",
             "07": "labour", "08": "consumer", "11": "consumer", "14": "consumer", "09": "medical",
             "10": "traffic", "13": "damage", "12": "debt"}

TEXTS: dict[str, dict[str, list]] = {
    "family": {
        "facts": ["{a}年逾七旬，与{r}系父母子女关系。{a}现独居老屋，无固定收入，近年多病。{r}在外务工，对{a}的"
                  "赡养费给付时断时续，双方因赡养费数额及老人日常照料问题多次争吵。经调查核实，{r}未按月足额给付"
                  "赡养费，负有主要责任；{a}对子女的实际经济困难亦应予以体谅。"],
        "terms": ["一、{r}自本协议签订之月起每月给付{a}赡养费人民币{monthly}元；\n二、{a}患病住院所需医疗费用，扣除"
                  "医保报销部分后由{r}承担一半；\n三、{r}每月至少回家探望{a}一次，农忙季节协助收种；\n四、双方今后"
                  "互相尊重，不再因此事争吵。"],
        "performance": ["赡养费由{r}于每月10日前通过银行转账支付至{a}名下账户；医疗费凭票据于出院后十五日内结算；"
                        "村人民调解委员会每季度回访一次。"],
        "claims": [("要求{r}每月给付赡养费{monthly}元，并承担看病的费用。",
                    "同意赡养，但在外打工收入不稳定，还要供孩子读书，希望医疗费由子女共同分担。")],
        "inquiry": [("54岁，{village}村委会主任，熟悉两家情况", "{a}的生活状况及{r}以往履行赡养义务的情况",
                     "问：{a}目前的生活情况怎么样？\n答：一个人住老屋，身体不太好，去年住过一次院，平时靠低保和一点养老金。\n"
                     "问：{r}以前给过赡养费没有？\n答：给过，前两年每月给几百块，去年下半年开始就没有按时给了。\n"
                     "问：双方主要分歧在哪里？\n答：老人觉得子女不管自己，{r}说在外打工收入不稳定，拿不出那么多。")],
    },
    "neighbour": {
        "facts": ["{a}与{r}系同组邻居，两家房屋相邻。{r}翻建房屋时新砌围墙及排水沟，{a}认为围墙越过两家老界址约0.3米，"
                  "且雨水排入其院坝，双方多次发生口角。经现场查看并询问组内老人，新砌围墙东段确有越界，{r}对纠纷负主要"
                  "责任；{a}曾擅自推倒部分围墙，亦有过错。",
                  "{a}与{r}系楼上楼下邻居。{r}家卫生间防水层老化，长期渗水至{a}家天花板，致墙面霉变、吊顶损坏。{a}多次"
                  "要求维修未果，双方发生争吵。经现场查看，渗水点位于{r}家卫生间下水管接口处，{r}应承担维修及赔偿责任。"],
        "terms": ["一、{r}于协议签订之日起十日内将越界部分围墙拆除，按原老界址重新砌筑；\n二、{r}将排水沟改向自家院坝"
                  "外侧排出，不再排入{a}院内；\n三、{a}推倒围墙造成的损失人民币{small}元由{a}赔偿给{r}；\n四、双方"
                  "今后友好相处，不得以任何理由阻挠对方正常生产生活。",
                  "一、{r}于十五日内请专业人员重做卫生间防水，费用自理；\n二、{r}赔偿{a}吊顶及墙面修复费用人民币{amt}元；"
                  "\n三、防水重做后如仍渗水，{r}继续负责维修。"],
        "performance": ["拆除、改建由{r}自行组织施工，十日内完成，村民小组长到场确认；赔偿款由{a}于协议签订当日当面付清。",
                        "防水工程完工后由社区调解员会同双方闭水试验验收；赔偿款于验收当日以转账方式付清。"],
        "claims": [("要求{r}拆除越界的围墙，按老界址重新砌，排水沟改道。", "围墙是在自家地基上砌的，{a}推倒围墙应当赔偿。"),
                   ("楼上漏水半年多了，天花板都霉了，要求{r}修好并赔偿损失。", "愿意维修，但赔偿金额太高，吊顶本来就旧了。")],
        "inquiry": [("68岁，村民小组原组长，两家的邻居", "两家老界址的位置及围墙修建经过",
                     "问：你知道两家老界址在哪里吗？\n答：以前有块界石，在老核桃树往东一米的位置，组里上了年纪的人都晓得。\n"
                     "问：{r}新砌的围墙越过老界址没有？\n答：东头那段越过去了，大概有一尺的样子。\n"
                     "问：砌墙的时候{a}有没有提出异议？\n答：提过，当时就吵起来了，后来{a}把墙推倒了一截。"),
                    ("40岁，小区物业管理员，曾两次上门查看渗水", "渗水的位置和原因",
                     "问：你去{a}家查看时看到了什么？\n答：卫生间正下方的吊顶有大片水渍，石膏板已经变形。\n"
                     "问：渗水是从哪里来的？\n答：上楼看过，{r}家卫生间下水管接口老化，一放水楼下就渗。")],
    },
    "land": {
        "facts": ["{a}与{r}同属一个村民小组，两家承包地相邻。{r}近年在地边种植经果林时将地界向{a}一侧推移，双方对约"
                  "{mu}亩土地的承包经营权发生争议。经查阅土地承包经营权证及原始台账，争议地块在{a}承包范围内，{r}对"
                  "纠纷负主要责任。"],
        "terms": ["一、争议地块按土地承包经营权证载明的四至界线确定，由{a}承包经营；\n二、{r}在争议地块上种植的苗木，"
                  "由{a}折价补偿人民币{small}元，苗木归{a}所有；\n三、双方在界线上共同埋设界桩，今后不得擅自移动。"],
        "performance": ["界桩于协议签订后五日内由村委会组织双方共同埋设；补偿款由{a}于协议签订之日起三十日内一次性支付给{r}。"],
        "claims": [("那块地是二轮延包时分给我家的，证上写得清清楚楚，要求{r}退还。", "地边那几分地一直是我家在种，果树也栽了好几年了。")],
        "inquiry": [("47岁，{village}村委会会计，保管土地承包台账", "争议地块的承包登记情况",
                     "问：争议地块在承包台账上登记在谁名下？\n答：第二轮延包的台账上，这块地登记在{a}家，四至写得很清楚，西边到水沟。\n"
                     "问：{r}家有没有这块地的承包手续？\n答：没有，{r}家的地在水沟西边。\n"
                     "问：{r}种果树的时候村里知道吗？\n答：不知道，是{a}来反映了才晓得。")],
    },
    "labour": {
        "facts": ["{a}等人受雇于{r}承包的建筑工程，从事砌筑、钢筋等工作，约定按日计酬、完工结清。工程完工后，{r}以发包方"
                  "未结清工程款为由，拖欠{a}等人劳动报酬共计人民币{amt}元。经核对考勤记录和工资表，欠薪数额属实，{r}作为"
                  "用工方对支付劳动报酬负有直接责任。"],
        "terms": ["一、{r}确认拖欠{a}等人劳动报酬共计人民币{amt}元；\n二、{r}分两期付清：第一期人民币{half}元于协议签订之日起"
                  "五日内支付，余款于三十日内付清；\n三、款项付清后，{a}等人不再就此事向有关部门投诉。"],
        "performance": ["工资款由{r}通过银行转账分别支付至每名劳动者本人账户，县人社局劳动保障监察大队监督履行；逾期未付的，"
                        "{a}等人可申请劳动人事争议仲裁。"],
        "claims": [("干完活三个多月了，工钱一分没拿到，要求{r}马上结清。", "发包方还欠我工程款，钱到了马上给，不是故意拖欠。")],
        "inquiry": [("45岁，该工程钢筋班组长，与双方均无亲属关系", "{a}等人的出勤天数和工资标准",
                     "问：{a}他们在工地上干了多长时间？\n答：从三月份干到七月底，考勤表上每天都有记录。\n"
                     "问：工资是怎么约定的？\n答：大工每天三百，小工每天两百，说好完工一次结清。\n"
                     "问：{r}付过钱没有？\n答：中间预支过两次生活费，考勤表背面记着，其余的都没有给。")],
    },
    "consumer": {
        "facts": ["{a}在{r}经营的门店购买家用电器，付款人民币{amt}元。使用三个月后出现故障，{a}要求退换，{r}以超过"
                  "退换期限为由拒绝，双方发生争执。经调查，故障发生在保修期内，{r}未尽到经营者的售后义务，应承担主要责任。"],
        "terms": ["一、{r}为{a}更换同型号新品，或按{a}选择退还货款人民币{half}元；\n二、{r}补偿{a}往返交通等费用人民币"
                  "{small}元；\n三、双方就此纠纷再无其他争议。"],
        "performance": ["{r}于协议签订之日起七日内办理换货或通过转账退款，{a}同日将原商品退回门店。"],
        "claims": [("买回来三个月就坏了，要求退货退款。", "可以维修，退货要扣折旧费。")],
        "inquiry": [("29岁，{r}门店营业员，当时经手销售", "商品售出情况及售后处理经过",
                     "问：{a}买的东西是你经手卖的吗？\n答：是的，当时开了小票，保修期一年。\n"
                     "问：{a}来退换的时候是怎么处理的？\n答：老板说要等厂家来人检测，后来一直没来，{a}就来了好几次。")],
    },
    "medical": {
        "facts": ["{a}的亲属在{r}处住院手术，术后出现感染并发症，延长住院二十余天。{a}认为医院诊疗和告知存在过错，"
                  "要求赔偿，双方多次协商未果。经医疗纠纷人民调解委员会组织专家咨询，医院在风险告知方面存在不足，"
                  "应承担次要责任。"],
        "terms": ["一、{r}一次性补偿{a}医疗费、护理费、误工费等各项损失共计人民币{amt}元；\n二、{a}不再以任何方式向{r}"
                  "及其医务人员主张权利；\n三、本协议为双方就该医疗纠纷的最终处理。"],
        "performance": ["补偿款由{r}于协议签订之日起十五日内转入{a}指定的银行账户。"],
        "claims": [("做个小手术住了一个多月院，医院要负责。", "手术规范，并发症在知情同意书上写明了，可以适当给予人道补偿。")],
        "inquiry": [("41岁，{r}外科主治医师", "诊疗经过及并发症的告知情况",
                     "问：手术前有没有告知可能出现的并发症？\n答：口头讲过，知情同意书上写了常见并发症。\n"
                     "问：并发症出现后是怎么处理的？\n答：当天请上级医生会诊，调整了抗生素，家属当时情绪比较激动。")],
    },
    "traffic": {
        "facts": ["{r}驾驶二轮摩托车在村道转弯处与步行的{a}相撞，致{a}左腿骨折，住院治疗二十余天。经交警部门认定，"
                  "{r}承担事故主要责任，{a}承担次要责任。双方对赔偿数额分歧较大。"],
        "terms": ["一、{r}赔偿{a}医疗费、护理费、误工费、营养费等各项损失共计人民币{amt}元（已垫付的人民币{small}元从中"
                  "扣除）；\n二、{a}今后因本次受伤产生的后续治疗费用自行承担；\n三、双方就本次事故再无其他纠葛。"],
        "performance": ["{r}于协议签订之日起十日内将剩余赔偿款一次性支付给{a}，{a}出具收条。"],
        "claims": [("腿骨折了，三个月干不了活，要求赔偿全部损失。", "已经垫付了住院押金，{a}自己走路也没看车，不能全赔。")],
        "inquiry": [("36岁，事发时在路边小卖部，与双方均不相识", "事故发生经过",
                     "问：事发时你在哪里？看到了什么？\n答：我在小卖部门口，看到摩托车转弯速度比较快，人在路边走，一下就撞上了。\n"
                     "问：事后{r}是怎么处理的？\n答：{r}马上打了120，还垫付了住院押金。")],
    },
    "damage": {
        "facts": ["{r}在自家门前堆放建材未设置警示标志，{a}夜间经过时绊倒摔伤，住院治疗十余天。经调查，{r}对堆放物未尽"
                  "管理义务，应承担主要责任；{a}夜间行走未注意观察，自身亦有一定过错。"],
        "terms": ["一、{r}赔偿{a}医疗费、误工费等损失共计人民币{amt}元；\n二、{r}于三日内清理门前堆放的建材；\n"
                  "三、双方就此事再无其他纠葛。"],
        "performance": ["赔偿款由{r}于协议签订之日起十日内以现金方式在村调解室当面付清，{a}出具收条。"],
        "claims": [("晚上路过被{r}家堆的钢管绊倒，摔断了手腕，要求赔偿。", "东西堆在自家门口，{a}自己不看路，只愿意承担一部分。")],
        "inquiry": [("58岁，{r}的邻居，事发后最先赶到", "事发现场的情况",
                     "问：事发当晚门前的建材是怎么堆放的？\n答：钢管和砖堆在路边，占了半边路，没有灯也没有警示。\n"
                     "问：你到现场时{a}是什么情况？\n答：坐在地上起不来，手腕肿了，是我喊人送到卫生院的。")],
    },
    "debt": {
        "facts": ["{r}因经营周转需要向{a}借款人民币{amt}元，出具借条一张，约定一年内归还。借款到期后，{a}多次催要，"
                  "{r}以资金困难为由未能归还。经核对借条及转账记录，借款事实清楚，{r}应承担还款责任。"],
        "terms": ["一、{r}确认尚欠{a}借款本金人民币{amt}元；\n二、{r}分期归还：协议签订之日起十日内归还人民币{half}元，"
                  "余款于三个月内付清；\n三、{a}放弃主张利息；{r}未按期还款的，{a}可就全部未还款项及利息依法起诉。"],
        "performance": ["还款通过银行转账支付至{a}账户，每期付款后由{a}在原借条上签注收款金额和日期。"],
        "claims": [("借条在这里，到期一年了还不还，要求连本带息归还。", "借款属实，生意亏了，请求分期归还，免除利息。")],
        "inquiry": [("50岁，借款时在场，双方的朋友", "借款经过及借条出具情况",
                     "问：借钱的时候你在场吗？\n答：在场，是在{r}家里写的借条，钱是{a}当场转账的。\n"
                     "问：当时约定了利息没有？\n答：口头说过按银行利息算，借条上没有写。")],
    },
    "general": {
        "facts": ["{a}与{r}因{dtype}问题发生争议，{a}多次向村（社区）反映。经调查，双方对基本事实无异议，主要分歧在于"
                  "责任承担和补偿数额，{r}对纠纷的发生负有主要责任。"],
        "terms": ["一、{r}向{a}支付补偿款人民币{amt}元；\n二、{r}于十五日内采取措施消除影响，不再发生同类问题；\n"
                  "三、双方今后互谅互让，不再因此事发生争执。"],
        "performance": ["补偿款由{r}于协议签订之日起十五日内以现金或银行转账方式付清；整改情况由调解委员会现场确认。"],
        "claims": [("要求{r}停止侵害并补偿损失。", "愿意整改，补偿数额希望再商量。")],
        "inquiry": [("35岁，该片区网格员，多次上门了解情况", "纠纷起因和双方诉求",
                     "问：这个纠纷是怎么引起的？\n答：两家因为{dtype}的事积怨比较久，这次是当面吵起来了，找到我们网格。\n"
                     "问：双方现在的态度怎么样？\n答：{a}要求补偿，{r}愿意整改，就是钱的数额谈不拢。")],
    },
}
ORAL_PERFORMANCE = "{r}当场以现金方式支付，{a}当场清点收讫；双方口头达成协议，由调解员登记在案。"


def family_of(dispute_type_code: str) -> str:
    return FAMILY_OF.get(dispute_type_code[:2], "general")


def party_details(rng, family: str, applicant: bool) -> tuple[str, str]:
    """(民族, 职业或职务) of a demo party."""
    pools = FAMILY_OCCUPATIONS.get(family, (OCCUPATIONS, OCCUPATIONS))
    return rng.choice(ETHNICITIES), rng.choice(pools[0] if applicant else pools[1])


def _pick(texts: list, values: dict):
    """The text of the case's variant (one variant per case, so its facts, terms and talk agree)."""
    return texts[min(values["variant"], len(texts) - 1)]


def values_for(rng, family: str, names: tuple[str, str], amount, village: str, dtype: str) -> dict:
    amt = int(amount) if amount else rng.randint(6, 120) * 500
    return {"a": names[0], "r": names[1], "amt": amt, "half": amt // 2, "small": max(200, amt // 1000 * 100),
            "monthly": rng.choice([300, 400, 500, 600, 800]), "mu": rng.choice(["0.3", "0.5", "1.2", "2"]),
            "village": village, "dtype": dtype, "variant": rng.randrange(len(TEXTS[family]["facts"]))}


def agreement_texts(family: str, values: dict, oral: bool) -> dict:
    """What the handling form records for an agreement: its facts, terms and performance."""
    texts = TEXTS[family]
    return {"agreement_facts": _pick(texts["facts"], values).format(**values),
            "agreement_terms": _pick(texts["terms"], values).format(**values),
            "performance_terms": (ORAL_PERFORMANCE if oral else _pick(texts["performance"], values)).format(**values)}


def statements(family: str, values: dict) -> tuple[str, str]:
    applicant, respondent = _pick(TEXTS[family]["claims"], values)
    return applicant.format(**values), respondent.format(**values)


def inquiry(family: str, values: dict) -> dict:
    """Whom an investigation asked (how the person stands), about what, and its questions and answers."""
    info, matter, content = _pick(TEXTS[family]["inquiry"], values)
    return {"subject_info": info.format(**values), "matter": matter.format(**values),
            "content": content.format(**values)}


def party_inquiry(family: str, values: dict) -> dict:
    """An investigation of the respondent: the other side's account, in its own words."""
    _applicant, respondent = statements(family, values)
    return {"subject_info": "本案被申请人", "matter": "被申请人对争议事实的陈述及调解意向",
            "content": f"问：你对{values['a']}反映的情况有什么意见？\n答：{respondent}\n"
                       "问：你认为应该怎么解决？\n答：希望调解员从中协调，大家各让一步，不想闹到法院去。\n"
                       "问：以上记录是否属实？\n答：属实。"}


def person_name(rng) -> str:
    return rng.choice(county.PERSON_SURNAMES) + rng.choice(county.PERSON_GIVEN)


@dataclass
class Story:
    """What one demo case is about, for the words of its records."""

    mode: ResolutionMode
    family: str
    values: dict
    mediator: str
    names: tuple[str, str]
    kind: str = ""  # of mediation in the center (people's, administrative, industry): one per case


MEDIATORS = ["周大山", "李秀英", "王建国", "张明", "杨光荣", "吴春梅"]


def place(story: Story) -> str:
    return {ResolutionMode.AT_HOME: f"{story.names[0]}家中", ResolutionMode.ON_SITE: "纠纷现场（村道旁）",
            ResolutionMode.LITIGATION: "县人民法院诉调对接中心"}.get(story.mode, "中心第二调解室")


def session_data(rng, story: Story, result: str, first: bool) -> SessionData:
    """A sitting: the first hears each side's claim, a later one how far they have come."""
    a, r = story.names
    if first:
        applicant, respondent = statements(story.family, story.values)
    else:
        applicant = f"经调解员释法明理，{a}同意在原要求基础上适当让步。"
        respondent = f"{r}同意按调解员提出的方案承担相应责任。" if result == SessionResult.AGREED.value \
            else f"{r}仍坚持原意见，表示需要与家人商量。"
    notes = {SessionResult.AGREED.value: "双方当场达成一致，调解员宣读协议内容，双方签字确认。",
             SessionResult.ADJOURNED.value: "双方分歧较大，调解员分别做工作，约定三日后再次调解。",
             SessionResult.PARTIAL.value: "双方就主要事项达成一致，履行期限尚有分歧，约定下次调解继续协商。",
             SessionResult.NO_AGREEMENT.value: "双方各执己见，差距过大，调解未能达成协议；调解员已告知双方可向人民法院起诉"
                                               "或申请仲裁。"}.get(result, "")
    online = story.mode == ResolutionMode.ONLINE
    return SessionData(
        held_at=None, mediators=f"{story.mediator}（调解员）", recorder="书记员",
        applicant_statement=applicant, respondent_statement=respondent, result=result, notes=notes,
        kind=story.kind if story.mode == ResolutionMode.IN_CENTER else "",
        place="" if online else place(story),
        meeting_link=f"https://meeting.example.gov.cn/room/{rng.randint(100000, 999999)}" if online else "",
        attendees="网格员 孙丽" if story.mode == ResolutionMode.ON_SITE else "")


def investigation_data(rng, story: Story, of_party: bool) -> InvestigationData:
    """An inquiry of a witness (neighbour, village cadre, colleague), or of the respondent."""
    asked = party_inquiry(story.family, story.values) if of_party else inquiry(story.family, story.values)
    return InvestigationData(
        held_at=None, place=place(story) if of_party else rng.choice(["村委会办公室", "被调查人家中", "纠纷现场"]),
        investigators=f"{story.mediator}、{rng.choice([m for m in MEDIATORS if m != story.mediator])}", recorder="书记员",
        subject=story.names[1] if of_party else person_name(rng), present="" if of_party else "村民小组长", **asked)


SOCIAL_WORK = ["县阳光社会工作服务中心", "县同心社会工作服务站", "城关镇社会工作站"]
SOCIAL_WORKERS = ["陈静（社工）", "周晓梅（社工）", "吴磊（社工）、黄丽（社工）", "刘婷（中级社工师）"]
COUNSELLING = ["{a}情绪激动、夜不能寐，社工入户倾听其诉说，疏导焦虑情绪，帮助其理性看待调解结果。服务后{a}情绪明显平稳，表示愿意按协议往前看。",
               "{a}因纠纷长期郁结，社工运用情绪疏导和家庭关系调适方法进行面谈，与其一起梳理今后的打算。{a}表示心结基本打开，社工约定一个月后电话回访。"]
VOLUNTEER_SERVICES = [  # (service type, team, what was done)
    ("companionship", "城关镇巾帼志愿服务队", "志愿者陪同{a}到县人民医院复查并办理医保报销，{a}对志愿者的帮助表示感谢。"),
    ("legal_education", "县“法律明白人”志愿服务队", "志愿者上门向{a}、{r}两家讲解民法典相关规定和调解协议的法律效力，发放普法资料，双方表示今后按协议办事。"),
    ("practical_help", "县新时代文明实践志愿服务队", "志愿者帮助{a}家整理房前屋后、代购生活用品，并联系村（社区）干部落实后续帮扶措施。"),
]


def service_data(rng, story: Story, social_work: bool, party_id: int) -> ServiceData:
    """A social worker counselling the applicant, or volunteers helping the family."""
    values = {**story.values, "a": story.names[0], "r": story.names[1]}
    if social_work:
        return ServiceData(service_type="counselling", provider_kind="social_work", provider=rng.choice(SOCIAL_WORK),
                           worker=rng.choice(SOCIAL_WORKERS), served_at=None, duration_minutes=rng.choice([60, 90, 120]),
                           result=rng.choice(COUNSELLING).format(**values), party_id=party_id)
    kind, team, done = rng.choice(VOLUNTEER_SERVICES)
    return ServiceData(service_type=kind, provider_kind="volunteer", provider=team.format(**values),
                       worker=f"{person_name(rng)}、{person_name(rng)}（志愿者）", served_at=None,
                       duration_minutes=rng.choice([90, 120, 180, 240]), result=done.format(**values),
                       party_id=party_id, persons=2 if kind == "legal_education" else 1)
