"""The legal clock of each lawful channel a matter can be referred to (domain research §3.1).

These are statutory, not local policy: the receiving body must accept (or
answer) within these periods, and the center follows the matter until then.
"""
from __future__ import annotations

from portal.models import LawfulChannel
from portal.workdays import DayUnit

# channel -> (days, unit, the rule)
LEGAL_CLOCKS: dict[LawfulChannel, tuple[int, DayUnit, str]] = {
    LawfulChannel.LITIGATION: (7, DayUnit.CALENDAR, "民事诉讼法 §126：7日内立案或裁定不予受理"),
    LawfulChannel.LABOUR_ARBITRATION: (5, DayUnit.CALENDAR, "劳动争议调解仲裁法 §29：5日内决定是否受理"),
    LawfulChannel.LAND_ARBITRATION: (5, DayUnit.WORKING, "农村土地承包经营纠纷调解仲裁法 §23：5个工作日内决定受理"),
    LawfulChannel.ADMIN_REVIEW: (5, DayUnit.WORKING, "行政复议法 §30：5日内审查决定是否受理"),
    LawfulChannel.PETITION: (15, DayUnit.CALENDAR, "信访工作条例 §22、§23：15日内书面告知"),
}

# The most days a case's deadline may be extended in all, by channel. Statutory where the law
# sets one; mediation follows the county's rule (人民调解 is generally finished within a month).
EXTENSION_LIMITS: dict[LawfulChannel, tuple[int, str]] = {
    LawfulChannel.MEDIATION: (30, "县矛调中心规定：延期累计不超过30日"),
    LawfulChannel.PETITION: (30, "信访工作条例 §34：经批准可延长不超过30日"),
    LawfulChannel.LABOUR_ARBITRATION: (15, "劳动争议调解仲裁法 §43：可延长不超过15日"),
    LawfulChannel.LAND_ARBITRATION: (30, "农村土地承包经营纠纷调解仲裁法 §48：可延长不超过30日"),
    LawfulChannel.ADMIN_REVIEW: (30, "行政复议法 §62：可延长不超过30日"),
    LawfulChannel.LITIGATION: (0, "立案审查期限不得延长"),
}
