"""Urgency cues: what in a call says *when* something happened, whether harm is denied, and who
is at risk.

A danger sign (``routing.danger``) says what is dangerous; a cue says how to read it: a wound
"yesterday" is a report, a wound "still bleeding" is a call for an ambulance, "nobody hurt"
takes the urgency out of a crash, an elderly person or a child makes the same facts more
urgent. Each cue is a readable list of phrases (plus a few patterns), looked for in the
normalised text (``routing.text.normalise``). A cue found becomes

- a feature of every model head (``~past`` and its siblings, see ``routing.text.features``),
- an indicator of the priority head beside the danger signs, outside the text's
  normalisation, so that a long rambling call weighs a "还在流血" as much as a short one,
- and, for ``past`` and ``ongoing``, the test of ``routing.rules.priority_floor`` for an event
  that is over.

Pure functions of text, no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from routing.danger import DENIALS, first_found


@dataclass(frozen=True, slots=True)
class Cue:
    """One way of reading urgency: the words that show it."""

    code: str  # feature name without the leading "~"
    label: str  # Chinese, for a reader of the lists
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = ()

    def find(self, text: str) -> str | None:
        """The words of a normalised ``text`` that show this cue, if any."""
        return first_found(text, self.phrases, self.patterns)


def _cue(code: str, label: str, phrases: str, *patterns: str) -> Cue:
    return Cue(code, label, tuple(phrases.split()), tuple(re.compile(p) for p in patterns))


# A report of something over and done (its danger signs describe the past, not a risk now).
PAST: Final = _cue(
    "past",
    "事后报告",
    "昨天 前天 前几天 前些天 上周 上星期 上礼拜 上个礼拜 上个月 之前的事 过去了 事后 那天 去年 几天前 昨晚 昨儿 "
    "前段时间 早就 当时 补个案 备个案 备案 想报个案 已经好了 已经出院 已经缝",
)
# Something still going on; it cancels "it happened yesterday".
ONGOING: Final = _cue(
    "ongoing",
    "仍在持续",
    "还在 正在 至今 到现在 一直没回 一直联系不上 一直在 仍然 还没 持续 天天 每天 每晚 经常 老是 总是 又来 一夜",
)
# Just now: the danger is fresh, whatever else the call says.
RECENT: Final = _cue(
    "recent",
    "刚刚发生",
    "刚才 刚刚 就在刚 才发生 马上 赶紧 快来 快点来 快点 救命 现在",
    r"刚[^。！？!?，,]{0,3}(撞|打|抢|摔|倒|晕|跑|走|掉|砸|着|起|被)",
)
# Dealt with already: put out, shut off, found, fixed.
DONE: Final = _cue(
    "done",
    "已经处理",
    "已经处理 处理好了 已经解决 解决了 已经灭了 已经扑灭 扑灭了 火灭了 灭掉了 浇灭了 盖灭 已经修好 修好了 已经找到 "
    "找到了 已经回来了 人回来了 关了阀门 阀门关了 总阀关了 关了总阀 没味了 味道散了 已经散了 散得差不多 送到医院了 "
    "已经包上了 自己能去 自己去医院 私了",
    r"已经[^。！？!?，,]{1,6}了",
)
# Harm denied: nobody hurt, nobody inside, no fire.
DENIED: Final = Cue("denied", "否认伤害", DENIALS)
# Minor, a question, a complaint about service rather than a danger.
MINOR: Final = _cue(
    "minor",
    "情况轻微或咨询",
    "轻微 剐蹭 刮蹭 蹭了一下 擦挂 小擦 不严重 不要紧 没什么大事 没什么事 没大事 小问题 问一下 想问问 打听一下 了解一下 "
    "问问 咨询 能不能 有没有人管 投诉 反映一下 建议",
)
# Someone more at risk from the same facts: the old, the young, the pregnant, the frail.
AT_RISK: Final = _cue(
    "at_risk",
    "老人、孩子、孕妇或病人",
    "老人 老太太 老头 老大爷 大爷 大娘 奶奶 爷爷 姥姥 姥爷 老伴 八十 九十 七十 孩子 小孩 小朋友 婴儿 宝宝 娃 "
    "小学生 学生 幼儿园 孕妇 怀孕 残疾 瘫痪 轮椅 心脏病 抑郁",
)
# Many people at once.
MANY: Final = _cue(
    "many",
    "多人",
    "多人 好几个人 好多人 很多人 一群 全班 几十 十几个 一桌人 全家 一家人 一半人 整个车间 好些人 多名 一村人 都是人 "
    "好几个 十来个 好几桌 一个村子 好多都 好多学生 好多孩子 好多工人 好几辆",
    r"([0-9]{1,3}|[两三四五六七八九十几]{1,3}|二十多|三十多)(个|名|位|桌)(?!月|小时|钟头|星期|礼拜|多月|半月|地方|路口|电话)",
    r"家[三四五六七八]口",
)

CUES: Final[tuple[Cue, ...]] = (PAST, ONGOING, RECENT, DONE, DENIED, MINOR, AT_RISK, MANY)
CUES_BY_CODE: Final[dict[str, Cue]] = {cue.code: cue for cue in CUES}


def find_cues(normalised: str) -> tuple[str, ...]:
    """The codes of the cues a normalised text shows, in ``CUES`` order."""
    return _cues(normalised)


@functools.lru_cache(maxsize=4096)
def _cues(normalised: str) -> tuple[str, ...]:
    return tuple(cue.code for cue in CUES if cue.find(normalised) is not None)


def is_over(normalised: str) -> bool:
    """Whether the text reports an event that is over: a past cue and nothing still going on."""
    return PAST.find(normalised) is not None and ONGOING.find(normalised) is None
