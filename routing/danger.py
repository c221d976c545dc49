"""Danger signs: what in a call says that someone is at risk right now.

Each sign is a readable list of phrases plus a few patterns for the ways people paraphrase it
("腿好像断了", "他卡在驾驶室里"), looked for in the normalised text (``routing.text.normalise``)
after denials are blanked out ("没有人被困", "人没事"). A sign found becomes

- a feature of every model head (``!trapped`` and its siblings, see ``routing.text.features``),
  so that the category, priority and assisting-agency models learn how much each sign counts,
  and
- a floor in ``routing.rules.priority_floor``: a sign may raise a priority, never lower one.

Pure functions of text, no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from agencies import Priority


@dataclass(frozen=True, slots=True)
class DangerSign:
    """One kind of danger, the words that show it and the least priority it calls for."""

    code: str  # feature name without the leading "!"
    label: str  # Chinese, as shown in a reason
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    floor: Priority  # the least priority a call showing this sign gets (when it is not over)

    def find(self, text: str) -> str | None:
        """The words of ``text`` (normalised, denials blanked) that show this sign, if any."""
        return first_found(text, self.phrases, self.patterns)


def first_found(text: str, phrases: tuple[str, ...], patterns: tuple[re.Pattern[str], ...]) -> str | None:
    """The first of ``phrases`` found in ``text``, else the first match of ``patterns``, else None."""
    phrase = first_phrase(text, phrases)
    if phrase is not None:
        return phrase
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


def first_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The first of ``phrases`` (in their order) found in ``text``, else None. Most texts hold
    none of a list's phrases: one search for any of them answers that at once."""
    if not phrases or _any_of(phrases).search(text) is None:
        return None
    for phrase in phrases:
        if phrase in text:
            return phrase
    return None  # pragma: no cover - the search found one of them


@functools.cache
def _any_of(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(phrase) for phrase in phrases))


def _sign(code: str, label: str, floor: Priority, phrases: str, *patterns: str) -> DangerSign:
    return DangerSign(code, label, tuple(phrases.split()), tuple(re.compile(p) for p in patterns), floor)


# People as callers name them, for the signs that need someone near the danger.
_PEOPLE: Final = (
    r"(人|孩子|小孩|老人|老太太|老头|大爷|大娘|奶奶|爷爷|司机|妈|爸|闺女|儿子|媳妇|邻居|一家|全家|住户|乘客|学生|工人)"
)
_NEAR: Final = r"[^。！？!?]{0,12}"

SIGNS: Final[tuple[DangerSign, ...]] = (
    _sign(
        "trapped",
        "有人被困",
        "P1",
        "被困 困在 困住 困着 出不来 下不来 逃不出 跑不出来 压在下面 压在底下 压住了 被压在 被压住 被压着 压着人 "
        "压住人 压到人 被埋 埋在 掩埋 卡在车里 卡在里面 卡里面 卡在驾驶室 卡住了 夹在 关在电梯 锁在车里 锁在屋里 "
        "反锁在 被夹住 在驾驶室里 人在车里 里面还有人 车里还有人 人还在里面 屋里还有人 楼上还有人 人还在底下 "
        "还在车底 车底下 关着人 关了人 电梯里有人 电梯里还有人 人还在里头 人还压着 还压着人 "
        "掉下去了 掉进去了 掉井里 掉坑里 掉沟里 翻沟里 不知道里面有没有人 不知道车里有没有人",
        r"(人|他|她|孩子|小孩|老人|司机|乘客|还有人)[^。！？!?，,]{0,4}没出来",
        r"夹住(了)?(他|她|人|手|腿|脚|孩子|小孩|老人)",
        r"锁在[^。！？!?，,]{0,3}(里|屋|室)",
        r"(电梯|车|屋|房)[^。！？!?，,]{0,4}(关着|关了|困了|卡着)[^。！？!?，,]{0,4}(人|孩子|小孩|老人|个)",
        r"(卷|压|拖|轧)(到|在|进)?[^。！？!?，,]{0,3}(车底|车轮|轮子)",
        r"(孩子|小孩|老人|人)[^。！？!?，,]{0,2}被锁[^。！？!?，,]{0,6}(车|屋|房|室)",
        r"掉(进|到|在)?[^。！？!?，,]{0,6}(井|坑|沟|窖)里",
        r"压(在)?(他|她|人|孩子|老人)(的)?(身上|腿上|下面)",
        r"(卡|困|压|夹|埋)(在|住|着)[^。！？!?]{0,8}(里|下|中|底)",
        r"(门|车门)[^。！？!?]{0,4}(打不开|开不了|变形)",
    ),
    _sign(
        "unconscious",
        "昏迷或意识不清",
        "P1",
        "昏迷 不省人事 人事不省 叫不醒 喊不醒 没有意识 没意识 失去意识 昏过去 晕过去 晕死 晕倒 不动了 "
        "没动静 翻白眼 说不出话 站不住了 站都站不住 "
        "说胡话 胡言乱语 意识不清 神志不清 迷迷糊糊 迷糊了 认不出人 不认人 问啥都不知道 "
        "问什么都不知道 糊涂了 犯迷糊 不说话了 倒地不起 没有呼吸 没呼吸 心跳骤停 抽搐 口吐白沫 "
        "人不行了 快不行了 抽起来了 抽过去了 抽风 没知觉 瘫在地上 眼睛看不清了 嘴里冒沫 快没气了 人没气了 "
        "不太应 不吭气 叫不应 话都说不清 说话也说不清 说话都说不清 话也说不清 说不清话 口齿不清 颠三倒四 有个倒了 "
        "好几个倒了 几个人倒了 倒了好几个 都倒下了 倒下了好几个 不咋应 满嘴胡话 不动弹",
        r"(人|个|都|他|她|孩子|小孩|老人|爸|妈|爹|娘)晕(了|倒|过去)",
        _PEOPLE + r"[^。！？!?，,]{0,6}(一动不动|没反应|没有反应|没气了)",
        r"(躺|倒|趴|瘫|蜷)(在)?[^。！？!?，,]{0,6}(一动不动|不动了|没反应|没动静)",
        r"(叫|喊|问|推|拍)[^。！？!?，,]{0,4}(不应|不答应|没反应|不吭声|不动)",
        r"问[^。！？!?]{0,3}(什么|啥)都不知道",
        r"(躺|倒|趴)(在)?(地上|地下|路上|路边|方向盘上|床上)[^。！？!?]{0,4}(不动|起不来|没动)",
    ),
    _sign(
        "bleeding",
        "流血",
        "P2",
        "流血 出血 冒血 淌血 见血 是血 一脸血 满脸血 满身血 一身血 好多血 很多血 一地血 一滩血 血流 头破 开瓢 "
        "个大口子 血淋淋 血糊 鼻血 口子还在流 血不少 出了血 有血 带血 咳血 吐血 磕破 摔破 砸破 刮破 头破了 流学",
        r"流[了着点好多很多不少一]{1,3}血",
    ),
    _sign(
        "broken_limb",
        "骨折或肢体受伤",
        "P2",
        "骨折 断了腿 断了胳膊 腿断 胳膊断 手断 脚断 腿折 胳膊折 骨头 变形了 拐着 动不了了 站不起来 起不来",
        r"(腿|胳膊|胳臂|手|脚|手腕|脚踝|膀子|腰)[^。！？!?，,]{0,5}(断|折|变形|歪了|不能动|动不了|抬不起|不对劲|弯的|弯了|反着|拧)",
    ),
    _sign(
        "fire_near_people",
        "火或烟危及人员",
        "P1",
        "浓烟 大火 火势 越烧越大 火很大 火挺大 火越来越大 烧起来了 烟很大 烟好大 满屋子烟 屋里全是烟 楼道里全是烟 "
        "楼道全是烟 烟味很重 爆炸 炸了",
        r"(着火|起火|失火|着了火|着伙|起伙|冒烟|冒黑烟|烧着|火苗|明火)" + _NEAR + _PEOPLE,
        _PEOPLE + _NEAR + r"(着火|起火|失火|着伙|冒烟|冒黑烟|呛|熏)",
    ),
    _sign(
        "water_rising",
        "水漫到人身边",
        "P1",
        "水越涨越高 水越来越深 水涨 涨水 漫进 淹到 没过 齐腰 到腰 到胸口 到脖子 车顶上 站在车顶 爬到车顶 屋顶上 "
        "房顶上 被水冲 冲走 落水 溺水 掉河里 掉水里 掉进河 掉进水 掉进塘 掉坑里 水里扑腾 不会游泳",
        r"(水|洪水)[^。！？!?]{0,6}(涨|漫|淹|进屋|进了屋|到了)[^。！？!?]{0,10}" + _PEOPLE,
        _PEOPLE + r"[^。！？!?]{0,8}(泡在水|困在水|在水里|站在水)",
    ),
    _sign(
        "weapon",
        "凶器",
        "P1",
        "持刀 拿刀 拿着刀 提着刀 掂着刀 掂刀 拎着刀 菜刀 砍刀 水果刀 匕首 砍人 捅人 捅了 动刀 拿枪 有枪 持枪 砍伤 "
        "斧头 拿着棍 拿棍 抡棍",
        r"(拿|拎|提|掂|抡|挥|举|抄|握|操)[着起了]{0,2}[^。！？!?，,]{0,6}(钢管|铁棍|棍|砖|酒瓶|瓶子|铁锨|铁锹|镰刀|锄头|扳手|锤)",
        r"(拿|掏|抽|亮|握|举)[^。！？!?，,]{0,6}刀(?!削|口|片|叉)",
        r"(钢管|铁棍|棍子|砖头|酒瓶|瓶子|铁锨|锄头|锤子)[^。！？!?，,]{0,3}(砸人|打人|砸头|往人|朝人|冲人|砸在|打在)",
    ),
    _sign(
        "crime_in_progress",
        "正在作案",
        "P1",
        "正在撬 正在偷 还在偷 还在撬 正在抢 还打着 小偷还在 人还没走 还在里面翻 "
        "刚抢 刚才抢 刚被抢 刚被人抢 骗子还在 还在打电话 电话还没挂 还没挂 还在通话 还在视频 正在转账 要我转 让我转 "
        "逼我转 叫我转 正准备转 马上转 准备汇 撬门 抓小偷 抓贼 翻东西 "
        "刚转走 刚给了验证码 被转走了 按他说的 按对方说的 撬车 正在按 正在下载 正接着 还在接 屏幕共享 还在电话里 "
        "还在电话上 在撬 "
        "翻墙头 翻墙进 贼还在 小偷还 还在转悠 在银行转 柜台排队 正在柜台 要转钱 帮我冻结 赶紧冻结 快冻结 还在里头翻 ",
        r"(银行|网点|邮政所|ATM|柜台)[^。！？!?]{0,16}(取钱|取现|转账|汇款|转钱|汇钱|要取|非要取)",
        r"正在转(?!弯|移|动|圈|悠|学|让|告|播|达|发|运|车)",
        r"(在|正)撬[^。！？!?]{0,8}(门|锁|窗)",
        r"(就|正)?现在[^。！？!?]{0,4}(往|朝)[^。！？!?]{0,8}(走|跑)",
        r"(这会儿|正)搁[^。！？!?，,]{0,8}(翻|偷|撬|砸|打|转|视频|通话|电话)",
        r"正(跟|和)[^。！？!?，,]{0,8}(打电话|视频|通话)",
        r"(在|正)偷(?!偷|排|拍|看|听|懒)",
        r"刚(才|刚)?[^。！？!?，,]{0,6}(转走|转出|转了|转过去|汇了|汇出|验证码)",
        r"(还在|正在)[^。！？!?，,]{0,5}(视频|通话|打电话)",
        r"(要|非要|准备|正要)[^。！？!?，,]{0,10}(汇|转)[^。！？!?，,]{0,4}万",
        r"(正在|还在|正)(打|抢|偷|撬|砸|骗|追|威胁|拽|拆|剪|翻|割|扒)(?!桩|折|电话|针|开|工|扫|卡|车|算|印|疫苗|呼噜|游戏|麻将|牌|听|哆嗦|包票|滚)",
        r"(现在|正在|还在|这会儿|正|又)[^。！？!?，,]{0,6}(转账|转钱|转款|汇款|汇钱|转到|汇到|转一笔|要转|要汇|砸车|砸东西|打人)",
    ),
    _sign(
        "breathing",
        "呼吸困难",
        "P1",
        "喘不上气 喘不过气 上不来气 呼吸困难 透不过气 憋得喘 憋气 嘴唇发紫 嘴唇发青 脸发紫 脸都紫了 脸色发紫 喘得厉害 "
        "窒息 噎住了 卡住喉咙 卡喉咙 气都喘不 喘不上来 嘴都紫了 嘴发紫 嘴唇紫",
    ),
    _sign(
        "struck",
        "有人被车撞",
        "P2",
        "撞人 撞了人 撞到人 把人撞 撞倒一个 撞倒两个 撞倒了一个 撞倒了两个 撞飞了 轧了 碾了 轧到 压到人 人飞出去",
        _PEOPLE + r"[^。！？!?，,]{0,4}(被|让|叫)[^。！？!?，,]{0,4}车[^。！？!?，,]{0,2}(撞|碰|刮|轧|带倒)",
        r"把[^。！？!?，,]{0,6}(人|孩子|小孩|老人|老太太|大爷|学生|行人)[^。！？!?，,]{0,3}(撞|轧|碾|刮倒)",
        r"(撞|轧|刮)倒[^。！？!?，,]{0,2}(了)?[^。！？!?，,]{0,3}(人|个|孩子|小孩|老人|行人)",
    ),
    _sign(
        "confrontation",
        "冲突一触即发或作案人还在附近",
        "P2",
        "要打了 要动手 要打起来 打起来了 动手了 推搡起来 推推搡搡 堵在门口 砸门 踹门 一直跟着我 跟踪我 尾随 还在跟着 "
        "还没走远 拦着他 拦住他 想跑",
        r"往[^。！？!?，,]{1,6}跑了",
    ),
    _sign(
        "self_harm",
        "有人要轻生",
        "P1",
        "跳楼 要跳下去 从楼上跳 不活了 不想活 寻死 轻生 自杀 喝药了 喝了农药 割腕 上吊 要跳河 跳河了",
    ),
    _sign(
        "live_wire",
        "漏电或带电",
        "P2",
        "漏电 带电 还有电 冒火花 打火花 电死 触电 电着了 电线掉 电线耷拉 电线露 电线裸露",
    ),
    _sign(
        "life_support",
        "维持生命的设备断电",
        "P1",
        "",
        r"(制氧机|呼吸机|氧气机|透析|吸氧)[^。！？!?]{0,12}(停|没电|断电|不转|用不了|不能用)",
        r"(停电|没电|断电|停了电)[^。！？!?]{0,16}(制氧机|呼吸机|氧气机|透析|吸氧)",
    ),
    _sign(
        "vulnerable_alone",
        "孩子或老人无人照看",
        "P2",
        "独居老人 孤寡老人 空巢老人 留守儿童 老人独自 独自在家 一个人在家 锁在车里 走丢 走失 迷路 找不到家 锁在门外 "
        "关在门外 不让进门 不叫进门 不让我进门 不叫我进门 把我撵出来 把我赶出来 撵出来了 赶出家门 没进家门",
        r"(孩子|小孩|小朋友|娃|婴儿|宝宝|老人|老太太|老头|大爷|大娘|奶奶|爷爷|姥姥|姥爷)"
        r"[^。！？!?]{0,8}(一个人|独自|自己在|没人管|没人看|锁在|关在|走丢|丢了|找不到|不见了|迷路|跑出去|翻墙出去|"
        r"自己出去|走出去)",
    ),
)

SIGNS_BY_CODE: Final[dict[str, DangerSign]] = {s.code: s for s in SIGNS}


def _longest_first(words: str) -> tuple[str, ...]:
    """The space-separated phrases of ``words``, longest first (so a longer one is blanked whole)."""
    return tuple(sorted(dict.fromkeys(words.split()), key=len, reverse=True))


# Words that deny harm; blanked out before signs are looked for ("没有人被困" is no trapped person).
DENIALS: Final[tuple[str, ...]] = _longest_first(
    "没人受伤 没有人受伤 无人受伤 没有受伤 没受伤 未受伤 人没事 人都没事 人没什么事 人倒没事 没有伤亡 "
    "无人员伤亡 没有人员伤亡 无伤亡 没伤着 没伤到 没有被困 没人被困 无人被困 没有人被困 没有人员被困 "
    "里面没人 没有人在里面 没人在里面 都跑出来了 都出来了 没有明火 人都好好的 人好好的 人没受伤 "
    "都没受伤 没有人员受伤 人员没事 没人在旁边 没有人在旁边 没流血 没有流血 没出血 没骨折 没有骨折 "
    "没有血 没见血 旁边没人 周围没人 附近没人 不是很大 火不大 没烟了 没有烟了 已经灭了 扑灭了 火灭了 没有刀 没拿刀 "
    "没动刀"
)

# Words containing a danger word without meaning danger ("打不着火" is no fire, "献血" no wound).
FALSE_FRIENDS: Final[tuple[str, ...]] = _longest_first(
    "打不着火 点不着火 打不着 点不着 停气 火车站 火锅 灭火器 消防通道 消防栓 消防设施 消防门 血压 出血热 "
    "献血 血糖 验血 抽血 血常规 开刀 刀口 手术刀 刀削面 砖头房 骨头汤 烟囱 抽烟 吸烟 烟头 烟花 "
    "烟酒 二手烟 烧垃圾 焚烧垃圾 烧秸秆 水涨船高 涨价 水费 炸锅 都炸了 空气炸锅 油炸 炸鸡 炸串 "
    "急死人 吵死人 热死人 气死人 烦死人 吓死人 臭死人 冻死人 困死了 累死了"
)


# A danger only imagined ("万一着火了人都跑不出来", "一着火就出不来"): blanked to the end of its clause.
HYPOTHETICAL: Final = re.compile(r"(万一|要是|如果|假如|一旦|真要|真着火|一着火|一起火)[^。！？!?，,；;]*")


def blank_imagined(text: str) -> str:
    """``text`` with the dangers it only imagines ("万一砸下来…") blanked to the end of their clause
    (same length)."""
    return HYPOTHETICAL.sub(lambda m: "□" * len(m.group(0)), text)


# The lists and the learned detector both read one text with its denials blanked: blanked once.
@functools.lru_cache(maxsize=4096)
def blank_denials(normalised: str) -> str:
    """``normalised`` with false friends, denials of harm and imagined dangers blanked out (same
    length)."""
    text = blank_imagined(normalised)
    for phrases in (FALSE_FRIENDS, DENIALS):
        if _any_of(phrases).search(text) is None:  # most texts hold none
            continue
        for phrase in phrases:
            if phrase in text:
                text = text.replace(phrase, "□" * len(phrase))
    return text


def find_signs(normalised: str) -> dict[str, str]:
    """The danger signs of a normalised text: code → the words that showed it, in ``SIGNS`` order."""
    return dict(_signs(normalised))


# The features and the priority floor both look for the signs of one text: found once.
@functools.lru_cache(maxsize=4096)
def _signs(normalised: str) -> tuple[tuple[str, str], ...]:
    text = blank_denials(normalised)
    found: list[tuple[str, str]] = []
    for sign in SIGNS:
        words = sign.find(text)
        if words is not None:
            found.append((sign.code, words))
    return tuple(found)
