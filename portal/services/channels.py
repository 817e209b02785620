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
