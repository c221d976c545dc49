"""Readable rules on top of the classifier: priority raising and lowering, assisting agencies.

Every rule is a named list of phrases; a rule that fires leaves a reason in Chinese that a
call-taker can read and check. Texts are normalised first (``routing.text.normalise``), so
dialect forms ("木有人受伤") read as Mandarin ("没有人受伤").

The order of decisions (see :func:`decide_priority`):

1. start from the category's default priority;
2. category-specific adjustments (food without symptoms, water on a road without danger, ...);
3. lower one level when the text says it is over, minor, a consultation or nobody was hurt;
4. raise: a critical sign sets P1, a serious sign sets at least P2, a vulnerable person
   raises one level in categories where that changes the risk.

Negated danger ("没人受伤", "没有被困") is blanked out before danger is looked for, and
"not done" phrases ("还没找到", "没解决") before "done" is looked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from agencies import CATEGORIES, PRIORITIES, Priority
from routing import cues
from routing.danger import SIGNS_BY_CODE, blank_imagined, find_signs, first_phrase


@dataclass(frozen=True, slots=True)
class Signal:
    """A named group of phrases (and patterns); ``only`` limits it to some categories (empty: all)."""

    label: str
    phrases: tuple[str, ...]
    only: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()

    def find(self, text: str, category: str) -> str | None:
        """The first phrase of this signal found in ``text`` (else the words a pattern matches), if
        the signal applies to ``category``."""
        if self.only and category not in self.only:
            return None
        found = first_phrase(text, self.phrases)
        if found is None and self.patterns:  # a danger only imagined ("万一砸下来") is no match
            real = blank_imagined(text)
            match = next((m for p in self.patterns if (m := p.search(real))), None)
            found = match.group(0) if match else None
        return found


def _signal(label: str, phrases: str, only: tuple[str, ...] = (), patterns: tuple[str, ...] = ()) -> Signal:
    return Signal(label, tuple(phrases.split()), frozenset(only), tuple(re.compile(p) for p in patterns))


# Something about to fall or give way, and people under or beside it.
_GIVING_WAY: Final = (
    r"((要|快|随时|眼看|马上|就要)[^。！？!?，,]{0,4}(掉下来|砸下来|掉下去|掉了|塌|倒|垮|砸)"
    r"|(裂缝|裂口|口子)[^。！？!?，,]{0,3}越来越(大|宽))"
)
_BELOW: Final = (
    r"(底下|下面|下边|旁边|边上)[就还全都是]{0,3}"
    r"(有人|还有人|是人|孩子|小孩|学生|老人|小学|幼儿园|学校|放学|等车|干活|站|公交站)"
)


# Phrases that deny harm. Blanked out before looking for danger, and a reason to lower.
NO_HARM: Final = _signal(
    "无人受伤",
    "没人受伤 没有人受伤 无人受伤 没有受伤 没受伤 未受伤 人没事 人都没事 人没什么事 人倒没事 "
    "没有伤亡 无人员伤亡 没有人员伤亡 无伤亡 没伤着 没伤到 没有被困 没人被困 无人被困 没有人被困 "
    "没有人员被困 里面没人 没有人在里面 没人在里面 都跑出来了 都出来了 没有明火 人都好好的 人好好的 人没受伤 "
    "都没受伤 没有人员受伤 人员没事 没人在旁边 没有人在旁边",
)

# Words that contain a danger word without meaning danger ("打不着火" is no fire); blanked first.
FALSE_FRIENDS: Final = _signal(
    "字面误会",
    "打不着火 点不着火 打不着 点不着 停气 没气了 火车站 火锅 灭火器 消防通道 消防栓 消防设施 消防门 血压 出血热 献血 "
    "急死人 吵死人 热死人 气死人 烦死人 吓死人 臭死人 冻死人 困死了 累死了",
)

# Phrases that deny completion; blanked out before looking for "already done".
NOT_DONE: Final = _signal(
    "未解决",
    "没解决 没有解决 未解决 还没处理 没有处理 没处理 没人处理 不处理 没人管 没找到 没有找到 找不到 "
    "还没找到 没修好 没有修好 修不好 没灭 没有灭 灭不了 没回来 没有回来 还没回",
)

# Phrases saying that something is still going on; they cancel "it happened yesterday".
ONGOING: Final = Signal("仍在持续", cues.ONGOING.phrases)

CRITICAL: Final[tuple[Signal, ...]] = (
    _signal("昏迷", "昏迷 不省人事 叫不醒 没有意识 没意识 失去意识 昏过去 晕过去 人事不省"),
    _signal("没有呼吸", "没有呼吸 没呼吸 心跳骤停 心脏骤停 没心跳"),
    _signal("倒地不起", "倒地不起 躺地上不动 躺在地上不动 躺着不动 躺在地上 倒在地上 躺地上 倒地上 躺路上 没动静"),
    _signal(
        "大量出血",
        "大出血 流血不止 血流不止 满身是血 满脸是血 一身血 很多血 好多血 一地血 一滩血 头破血流 血流了一脸 都是血",
    ),
    _signal("重伤", "重伤 伤得很重 伤的很重 伤得不轻 伤的不轻 伤势严重"),
    _signal(
        "被困",
        "被困 困在 困住 困着 出不来 下不来 逃不出 压在下面 压在底下 压住了 被压 被埋 埋在 掩埋 卡在车里 卡在里面 "
        "里面还有人 车里还有人 人还在里面 车里的人还没出来",
    ),
    _signal("火势蔓延", "火势 蔓延 越烧越大 烧起来了 浓烟 大火 火很大 火挺大 爆炸 炸开"),
    _signal("凶器", "持刀 拿刀 拿着刀 提着刀 掂着刀 菜刀 砍刀 匕首 砍人 捅人 捅了 动刀 拿枪 有枪 持枪 砍伤"),
    _signal("多人伤亡", "多人受伤 好几个人受伤 几个人受伤 多人中毒 死人了 死了人 有人死了 死亡 人死了"),
    _signal(
        "生命危险", "生命危险 快不行了 要跳楼 跳楼 轻生 自杀 落水 溺水 掉河里 掉水里 掉进河 被水冲走 冲走了 没上来"
    ),
    _signal("呼救", "救命 呼救 救我 救救我"),
    _signal("抽搐", "抽搐 抽风 口吐白沫"),
    _signal("车辆起火", "着火 起火 爆炸 自燃 烧起来", ("transport.accident",)),
    _signal(
        "正在作案",
        "正在撬 正在偷 还在偷 还在撬 正在抢 人还在 还没走 小偷还在 刚抢 刚才抢 刚被抢 刚被人抢",
        ("police.theft",),
    ),
    _signal(
        "信号冲突",
        "道口 都是绿 同时是绿 同时绿 也是绿 两边都是绿 都亮绿 栏杆没放 栏杆不放 没放下来",
        ("transport.signal",),
    ),
    _signal(
        "险情迫近", "要倒了 快倒了 要塌 快塌 会炸 要炸 还带电 带着电 还有电 高压线掉 电线掉", ("emergency.hazard",)
    ),
    _signal(
        "坠落或倒塌危及人员",
        "",
        patterns=(
            _GIVING_WAY + r"[^。]{0,16}" + _BELOW,
            _BELOW + r"[^。]{0,16}" + _GIVING_WAY,
            r"(往下掉|掉下来|砸下来)[^。！？!?]{0,12}(底下|下面)[^。！？!?，,]{0,3}(是|有|就是)[^。！？!?，,]{0,3}"
            r"(幼儿园|小学|学校|人|学生|孩子|小孩|老人)",
        ),
    ),
    _signal(
        "救援通道被堵",
        "救护车进不来 救护车过不去 救护车被 救护车出不去 就护车 消防车进不来 消防车过不去",
        ("transport.obstruction",),
    ),
)

SERIOUS: Final[tuple[Signal, ...]] = (
    _signal(
        "受伤",
        "受伤 受了伤 伤者 伤员 打伤 撞伤 摔伤 烧伤 烫伤 砸伤 划伤 伤到了 伤着了 挂彩 擦破 擦伤 打肿 肿了 鼻青脸肿 "
        "被烧 呛晕 起不来 砸破 打破 头破",
    ),
    _signal("流血", "流血 出血 头破了 鼻血 见血 一脸血 血淋淋 淌血 冒血 开瓢 开了瓢 个口子 道口子 是血"),
    _signal("骨折", "骨折 腿断了 胳膊断了 腿摔断"),
    _signal("冒烟", "冒烟 冒黑烟 冒火星 火星子"),
    _signal(
        "身体不适",
        "头晕 呕吐 恶心 胸闷 呼吸困难 喘不过气 喘不上气 送医院 送医 住院 急诊 叫了救护车 打了120 叫了120 咳嗽 熏得 "
        "睁不开 头疼 难受",
        ("emergency.hazmat", "emergency.gas_leak", "urban.utilities", "emergency.hazard", "emergency.fire"),
    ),
    _signal(
        "司机危险驾驶",
        "酒驾 醉驾 喝了酒 喝酒 酒味 不停车 他不停 抢方向盘 东倒西歪 司机睡着 打瞌睡 左摇右晃 往野地里开",
        ("transport.transit",),
    ),
    _signal("路面塌陷", "塌陷 塌了 塌方 下陷 陷下去 塌下去 冲垮 掏空 下面是空的", ("transport.road_damage",)),
)

RAISE_ONE: Final[tuple[Signal, ...]] = (
    _signal("孩子", "孩子 小孩 小朋友 婴儿 宝宝 小学生 学生 幼儿园 女孩 男孩"),
    _signal("老人独自", "老人独自 独居老人 独自在家 一个人在家 孤寡老人 老人一个人 空巢老人"),
    _signal("孕妇", "孕妇 怀孕"),
    _signal("漏电风险", "漏电 触电 电线露 露在外面 电线裸露"),
    _signal("坠落风险", "没有盖子 没盖子 没有盖 敞着 深坑 没有围 没有护栏 没护栏 没有防护"),
)
# Where a child, an elderly person alone, a live wire or an open hole changes how fast someone must come.
RAISE_ONE_CATEGORIES: Final[frozenset[str]] = frozenset(
    {
        "police.violence",
        "transport.accident",
        "urban.facility",
        "urban.utilities",
        "urban.street_light",
        "emergency.hazard",
    }
)

LOWER: Final[tuple[Signal, ...]] = (
    _signal(
        "已经处理",
        "已经处理 处理好了 已经解决 解决了 已经灭了 已经扑灭 扑灭了 火灭了 灭掉了 浇灭了 盖灭 已经修好 修好了 "
        "已经找到 找到了 已经回来了 人回来了 已经关了阀门 阀门关了 关了阀门 总阀关了 关了总阀 已经没味了 味道散了 "
        "已经散了 味也散 散得差不多",
    ),
    _signal(
        "事后报告",
        "昨天 前天 前几天 前些天 上周 上星期 上礼拜 上个礼拜 上个月 之前的事 过去了 事后 那天 去年 几天前",
        (
            "police.violence",
            "police.theft",
            "police.fraud",
            "police.dispute",
            "police.public_order",
            "transport.accident",
        ),
    ),
    _signal("情况轻微", "轻微 剐蹭 刮蹭 蹭了一下 擦挂 小擦 不严重 不要紧 没什么大事 没啥大事 没大事 小问题"),
    _signal("咨询", "咨询 问一下 想问问 打听一下 了解一下 问问"),
)
# "Nobody hurt" lowers only where harm to people is what makes the category urgent.
NO_HARM_LOWERS: Final[frozenset[str]] = frozenset(
    {"transport.accident", "police.violence", "emergency.collapse", "emergency.natural_disaster"}
)

FOOD_SYMPTOMS: Final = _signal(
    "出现症状",
    "腹痛 肚子疼 肚子痛 拉肚子 闹肚子 腹泻 呕吐 吐了 上吐下泻 中毒 发烧 头晕 不舒服 送医 住院 急诊 过敏 疹 难受 "
    "就吐 一直吐 都吐 还吐 在吐 人吐 吐得 嘴麻 手麻 发麻 挂水 吊瓶 发热 脱水 喘不 晕 看不清 心慌 心里慌 没劲",
)
MANY_PEOPLE: Final = _signal(
    "多人",
    "多人 好几个人 好多人 很多人 一群 全班 几十 十几个 一桌人 全家 一家人 一半人 整个车间 好些人 多名 两个人都 "
    "俩人都 老两口 跟老伴都 和老伴都 也喝了 也吃了 都头晕 都晕 都吐 都在吐 都拉",
)
WATER_ONLY: Final = _signal(
    "道路积水",
    "积水 积了 路被淹 淹了路 被水淹 路上的水 马路上的水 没过膝盖 车过不去 过不去 无法通行 排不出去 车库被淹 进水了 "
    "泡在水里 冒水",
)
# Water that threatens homes or lives: then it is not "only water on the road".
SEVERE_WATER: Final = _signal(
    "洪水险情", "堤 决口 洪水 涨水 大水 冲走 冲垮 冲倒 进屋 屋里 房子 房屋 村子 管涌 溢洪 水库 滑坡 泥石流 有人 住人"
)


@dataclass(frozen=True, slots=True)
class AssistRule:
    """Add ``agency`` as assisting when one of ``phrases`` is in the text (and the category fits)."""

    agency: str
    signal: Signal
    why: str


def _assist(agency: str, label: str, phrases: str, why: str, only: tuple[str, ...] = ()) -> AssistRule:
    return AssistRule(agency, _signal(label, phrases, only), why)


INJURY_PHRASES: Final = (
    " ".join(
        " ".join(s.phrases)
        for s in CRITICAL
        if s.label in {"昏迷", "没有呼吸", "倒地不起", "大量出血", "重伤", "多人伤亡", "生命危险", "抽搐"}
    )
    + " "
    + " ".join(" ".join(s.phrases) for s in SERIOUS if s.label in {"受伤", "流血", "骨折"})
)

ASSIST_RULES: Final[tuple[AssistRule, ...]] = (
    _assist(
        "health",
        "有人受伤",
        INJURY_PHRASES
        + " 倒地 晕倒 摔倒在地 伤了 叫了救护车 叫救护车 打了120 叫了120 抢救 砍伤 被砍 被捅 捅了 打晕 砍人 "
        "砸着了 砸到人 砸到了 砸到几个 被打倒 打倒了 趴地上 摔下来 溅到 坐地上",
        "有人受伤或被困，需要医疗救护",
    ),
    _assist(
        "health",
        "撞到人",
        "撞倒 碰倒 刮倒 撞人 撞了人 撞到人 把人撞 被车撞 被车碰 被车刮 轧了 压到人 行人",
        "车辆撞到人，需要医疗救护",
        ("transport.accident",),
    ),
    _assist(
        "health",
        "有人被困",
        " ".join(next(s for s in CRITICAL if s.label == "被困").phrases) + " 喊救命 呼救",
        "有人被困或呼救，可能有伤员",
        (
            "emergency.fire",
            "emergency.collapse",
            "emergency.natural_disaster",
            "emergency.hazmat",
            "emergency.gas_leak",
            "transport.accident",
        ),
    ),
    _assist(
        "health",
        "有人出现症状",
        "头晕 呕吐 恶心 胸闷 呼吸困难 喘不过气 呛着 呛晕 中毒 不舒服 难受 送医院 咳嗽 熏得 睁不开 头疼",
        "有人出现身体症状，需要医疗救护",
        ("emergency.hazmat", "emergency.gas_leak", "emergency.fire", "emergency.hazard"),
    ),
    _assist(
        "emergency",
        "起火或泄漏",
        "起火 着火 失火 着了火 冒烟 冒黑烟 自燃 燃烧 明火 火苗 火光 爆炸 泄漏 漏油 漏气 化学品 危化品 "
        "煤气味 燃气味 天然气味 液化气 硫酸 盐酸 油罐",
        "有起火、爆炸或泄漏风险，需要应急处置",
    ),
    _assist(
        "transport",
        "道路受损或阻断",
        "散落 洒落 撒了一地 掉了一地 洒了一地 撒一路 撒了一路 漏了一地 满路 一地 一路 横在 堵了 堵住 堵死 "
        "堵成 过不去 走不了 封路 占了 车道 护栏 隔离栏 电线杆 路灯杆 信号灯 红绿灯 路面 路基 桥 撞断 撞坏 "
        "撞倒了 残骸 碎片 零件 玻璃碴 拖走 拖车 清障",
        "事故车辆、货物或损坏的道路设施阻碍通行，需要交通运输部门清障、抢修",
        ("transport.accident",),
    ),
    _assist(
        "urban",
        "管道或设施损坏",
        "水管爆裂 水管破裂 水管爆了 水管破了 管道爆裂 管道破裂 爆管 自来水管 供水管 污水管 井盖 管网 主管道",
        "涉及市政管道或设施，需要城管/供水协助",
        (
            "transport.road_damage",
            "transport.accident",
            "transport.obstruction",
            "emergency.natural_disaster",
            "emergency.hazard",
            "emergency.collapse",
        ),
    ),
    _assist(
        "transport",
        "道路上的车辆",
        "罐车 槽罐车 油罐车 货车 运输车 大车 半挂 侧翻 翻车 高速 国道 省道 道路中断 冲毁 堵住了路 路被埋 路断了 "
        "的车 冲断 桥被",
        "事发道路或车辆，需要交通管制",
        ("emergency.hazmat", "emergency.natural_disaster", "emergency.fire"),
    ),
    _assist(
        "emergency",
        "有人被困",
        "被困 困在 困住 困着 关在电梯 电梯里还有人",
        "有人被困，需要应急救援",
        ("urban.utilities", "urban.facility", "emergency.hazard"),
    ),
    _assist(
        "police",
        "冲突",
        "医闹 打人 打医生 要打 动手了 砸东西 打起来 吵起来 闹事 威胁 拦着不让走",
        "现场有冲突，需要公安到场",
        ("health.service", "transport.transit", "urban.vending", "urban.illegal_building", "urban.construction_noise"),
    ),
)

# Danger signs that show someone hurt now: an ambulance assists (unless the event is over).
HURT_SIGNS: Final = frozenset({"trapped", "unconscious", "breathing", "bleeding", "broken_limb", "struck", "self_harm"})

# Assisting agencies a category needs unless the text rules them out.
CATEGORY_ASSIST: Final[dict[str, tuple[str, str]]] = {
    "emergency.gas_leak": ("urban", "燃气泄漏 → 协办 urban（燃气管网）"),
    "emergency.collapse": ("health", "坍塌或生产事故可能有人员伤亡 → 协办 health"),
}


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """A decision with the reasons that led to it."""

    priority: Priority
    assisting: tuple[str, ...]
    reasons: tuple[str, ...]


def _blank(text: str, signal: Signal) -> tuple[str, list[str]]:
    """``text`` with every phrase of ``signal`` blanked out, and the phrases found."""
    found = [p for p in signal.phrases if p in text]
    for phrase in found:
        text = text.replace(phrase, "□" * len(phrase))
    return text, found


def _step(priority: Priority, levels: int) -> Priority:
    """Move ``levels`` towards P1 (positive) or P4 (negative), staying in range."""
    i = PRIORITIES.index(priority) - levels
    return PRIORITIES[min(max(i, 0), len(PRIORITIES) - 1)]


def decide_priority(category: str, text: str) -> tuple[Priority, list[str]]:
    """The priority of a normalised request text classified as ``category``, with reasons."""
    default = CATEGORIES[category].default_priority
    priority: Priority = default
    reasons: list[str] = []
    text, _ = _blank(text, FALSE_FRIENDS)
    danger_text, denied = _blank(text, NO_HARM)
    done_text, _ = _blank(text, NOT_DONE)

    # 2. category-specific
    if category == "health.food_safety":
        if FOOD_SYMPTOMS.find(danger_text, category) is None:
            priority = "P3"
            reasons.append("未提到有人出现症状 → 优先级降至 P3")
        elif MANY_PEOPLE.find(text, category) or cues.MANY.find(text):
            priority = "P1"
            reasons.append("多人出现症状 → 优先级升至 P1")
    if category == "police.theft" and "抢" in danger_text and any(w in text for w in ("刚", "跑了", "正在")):
        priority = "P1"
        reasons.append("抢劫刚刚发生 → 优先级升至 P1")
    if category == "emergency.natural_disaster":
        severe = SEVERE_WATER.find(danger_text, category) or any(s.find(danger_text, category) for s in CRITICAL)
        if WATER_ONLY.find(text, category) and not severe:
            priority = "P2"
            reasons.append("仅道路积水、未提到人员危险 → 优先级 P2")

    # 3. lowering (one level at most)
    lowered_by: str | None = None
    if denied and category in NO_HARM_LOWERS:
        lowered_by = f"提到“{denied[0]}”"
    for signal in LOWER:
        if lowered_by:
            break
        if signal.label == "事后报告" and ONGOING.find(text, category):
            continue
        phrase = signal.find(done_text, category)
        if phrase:
            lowered_by = f"提到“{phrase}”（{signal.label}）"
    if lowered_by and priority != "P4":
        priority = _step(priority, -1)
        reasons.append(f"{lowered_by} → 优先级降至 {priority}")

    # 4. raising
    for signal in CRITICAL:
        phrase = signal.find(danger_text, category)
        if phrase:
            if priority != "P1":
                priority = "P1"
                reasons.append(f"提到“{phrase}”（{signal.label}）→ 优先级升至 P1")
            break
    for signal in SERIOUS:
        phrase = signal.find(danger_text, category)
        if phrase:
            if PRIORITIES.index(priority) > 1:
                priority = "P2"
                reasons.append(f"提到“{phrase}”（{signal.label}）→ 优先级升至 P2")
            break
    if category in RAISE_ONE_CATEGORIES:
        for signal in RAISE_ONE:
            phrase = signal.find(text, category)
            if phrase and priority != "P1":
                priority = _step(priority, 1)
                reasons.append(f"涉及“{phrase}”（{signal.label}）→ 优先级升至 {priority}")
                break
    return priority, reasons


def decide_assisting(category: str, text: str) -> tuple[tuple[str, ...], list[str]]:
    """Assisting agencies (never the lead) for a normalised text classified as ``category``."""
    lead = CATEGORIES[category].agency
    danger_text, denied = _blank(_blank(text, FALSE_FRIENDS)[0], NO_HARM)
    chosen: list[str] = []
    reasons: list[str] = []
    default = CATEGORY_ASSIST.get(category)
    if default and not (default[0] == "health" and denied):
        chosen.append(default[0])
        reasons.append(default[1])
    # An ambulance is for someone hurt now: a report of an event that is over calls for none.
    over = cues.is_over(text)
    if over and chosen and chosen[0] == "health":
        chosen.pop()
        reasons.pop()
    if lead != "health" and "health" not in chosen and not over:
        hurt = [words for code, words in find_signs(text).items() if code in HURT_SIGNS]
        if hurt:
            chosen.append("health")
            reasons.append(f"提到“{hurt[0]}” → 协办 health（有人受伤、昏迷或被困，需要医疗救护）")
    for rule in ASSIST_RULES:
        if rule.agency == lead or rule.agency in chosen or (over and rule.agency == "health"):
            continue
        phrase = rule.signal.find(danger_text, category)
        if phrase:
            chosen.append(rule.agency)
            reasons.append(f"提到“{phrase}” → 协办 {rule.agency}（{rule.why}）")
    return tuple(chosen), reasons


def decide(category: str, text: str) -> RuleOutcome:
    """Priority and assisting agencies for a normalised text classified as ``category``."""
    priority, why_priority = decide_priority(category, text)
    assisting, why_assist = decide_assisting(category, text)
    return RuleOutcome(priority, assisting, tuple(why_priority + why_assist))


def _more_urgent(a: Priority, b: Priority) -> Priority:
    return a if PRIORITIES.index(a) <= PRIORITIES.index(b) else b


def priority_floor(category: str, text: str, signs: Mapping[str, str]) -> tuple[Priority | None, list[str]]:
    """The least priority the readable rules allow for a normalised text, with the reasons.

    A floor only ever raises a decision: the danger signs (``routing.danger``, already found in
    ``signs``), the critical and serious phrases above and the category rules (many people sick
    after a meal, a robbery just now). None when nothing calls for one. A report of an event
    that is over (yesterday, last week, with nothing still going on) gets no floor from signs.
    """
    floor: Priority | None = None
    reasons: list[str] = []

    def raise_to(priority: Priority, why: str) -> None:
        nonlocal floor
        if floor is None or _more_urgent(priority, floor) != floor:
            floor = priority
            reasons.append(f"{why} → 优先级至少 {priority}")

    over = cues.is_over(text)
    clean, _ = _blank(text, FALSE_FRIENDS)
    danger_text, _ = _blank(clean, NO_HARM)
    if not over:
        for code, words in signs.items():
            sign = SIGNS_BY_CODE[code]
            raise_to(sign.floor, f"提到“{words}”（{sign.label}）")
        for signal in CRITICAL:
            phrase = signal.find(danger_text, category)
            if phrase:
                raise_to("P1", f"提到“{phrase}”（{signal.label}）")
                break
        for signal in SERIOUS:
            phrase = signal.find(danger_text, category)
            if phrase:
                raise_to("P2", f"提到“{phrase}”（{signal.label}）")
                break
    if (
        category == "health.food_safety"
        and FOOD_SYMPTOMS.find(danger_text, category)
        and (MANY_PEOPLE.find(clean, category) or cues.MANY.find(clean))
    ):
        raise_to("P1", "多人出现症状")
    if category == "police.theft" and "抢" in danger_text and not over:
        raise_to("P1", "抢劫（不是事后报告）")
    return floor, reasons


def more_urgent(a: Priority, b: Priority | None) -> Priority:
    """The more urgent of a decision and a floor (None: no floor)."""
    return a if b is None else _more_urgent(a, b)
