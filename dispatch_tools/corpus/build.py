"""Build ``routing/data/corpus.jsonl``, the training corpus, from hand-written fragments.

Run ``python -m dispatch_tools.corpus.build`` (deterministic: same fragments, same output).

Every category has its own list of hand-written incident descriptions (``fragments_*.py``),
each a different way a caller might put it; this script wraps each one in the ways people
actually call: a greeting, a place, a plea at the end, a call-taker's third-person summary,
a web message, a rambling call joining two descriptions, Henan dialect, and speech
recognition errors. Some wrappers change the labels (someone hurt, nobody hurt, it happened
yesterday), and then the labels change with them.

Labels: ``priority`` is the fragment's annotated priority (else the category default) adjusted
by the wrapper; ``also`` is the fragment's annotated assisting agencies plus the category's
usual ones (gas leak → urban, collapse → health). These annotations are written by hand; the
rules in ``routing.rules`` are not used to label anything.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import routing.data
from agencies import CATEGORIES, DISTRICTS, PRIORITIES
from dispatch_tools.corpus import fragments_emergency as fe
from dispatch_tools.corpus import fragments_health as fh
from dispatch_tools.corpus import fragments_police as fp
from dispatch_tools.corpus import fragments_transport as ft
from dispatch_tools.corpus import fragments_urban as fu

OUT: Final = Path(routing.data.__file__).parent / "corpus.jsonl"
PER_CATEGORY: Final = 180
SEED: Final = 110

FRAGMENTS: Final[dict[str, str]] = {
    "police.violence": fp.VIOLENCE,
    "police.theft": fp.THEFT,
    "police.fraud": fp.FRAUD,
    "police.missing_person": fp.MISSING,
    "police.dispute": fp.DISPUTE,
    "police.public_order": fp.PUBLIC_ORDER,
    "transport.accident": ft.ACCIDENT,
    "transport.signal": ft.SIGNAL,
    "transport.road_damage": ft.ROAD_DAMAGE,
    "transport.obstruction": ft.OBSTRUCTION,
    "transport.transit": ft.TRANSIT,
    "health.emergency": fh.EMERGENCY,
    "health.food_safety": fh.FOOD_SAFETY,
    "health.epidemic": fh.EPIDEMIC,
    "health.service": fh.SERVICE,
    "urban.street_light": fu.STREET_LIGHT,
    "urban.sanitation": fu.SANITATION,
    "urban.vending": fu.VENDING,
    "urban.illegal_building": fu.ILLEGAL_BUILDING,
    "urban.facility": fu.FACILITY,
    "urban.construction_noise": fu.CONSTRUCTION_NOISE,
    "urban.utilities": fu.UTILITIES,
    "emergency.fire": fe.FIRE,
    "emergency.gas_leak": fe.GAS_LEAK,
    "emergency.hazmat": fe.HAZMAT,
    "emergency.natural_disaster": fe.NATURAL_DISASTER,
    "emergency.collapse": fe.COLLAPSE,
    "emergency.hazard": fe.HAZARD,
}

USUAL_ALSO: Final[dict[str, tuple[str, ...]]] = {
    "emergency.gas_leak": ("urban",),
    "emergency.collapse": ("health",),
}


@dataclass(frozen=True, slots=True)
class Fragment:
    """One hand-written description with its labels."""

    category: str
    text: str
    priority: str
    also: tuple[str, ...]
    annotated: bool


def parse(category: str, block: str) -> list[Fragment]:
    """The fragments of one category's block, labels resolved."""
    out: list[Fragment] = []
    for line in block.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        text, _, notes = line.partition("|")
        priority = CATEGORIES[category].default_priority
        also = list(USUAL_ALSO.get(category, ()))
        for token in notes.split():
            if token in PRIORITIES:
                priority = token
            elif token.startswith("-"):
                also.remove(token[1:])
            elif token not in also:
                also.append(token)
        out.append(Fragment(category, text.strip(), priority, tuple(also), bool(notes.strip())))
    return out


# --- wrappers -------------------------------------------------------------------------------

OPENERS: Final = (
    "喂，",
    "喂，你好，",
    "喂喂，是110吗？",
    "你好，是民生110吧，",
    "您好，我要反映个情况，",
    "俺要反映个事儿，",
    "同志你好，",
    "我要报警，",
    "我要投诉，",
    "那个，",
    "嗯，那个，",
    "我跟你说啊，",
    "你好，我打电话是想说，",
    "你好，麻烦你们一下，",
    "领导你好，",
    "警察同志，",
    "你好，我是这边住的，",
    "我是送外卖的，路过看见，",
    "我是开出租的，",
    "我是小区物业的，",
    "我是路过的，",
    "哎呀你们快点，",
    "你好你好，",
    "喂？能听见吗？",
    "你好，我这边有个事，",
    "那个啥，",
    "咦，",
    "哎，同志，",
)
CLOSERS: Final = (
    "赶紧派人来吧",
    "麻烦尽快处理一下",
    "谢谢",
    "中不中啊",
    "你们管不管啊",
    "快点啊",
    "我在这等着",
    "希望有关部门重视一下",
    "都反映好几次了",
    "恁快点来吧",
    "能不能派个人来看看",
    "拜托了",
    "急死人了",
    "别光记不办啊",
    "你们看着处理吧",
    "就这个事",
    "我电话就是这个号",
    "麻烦了",
    "我就在现场",
)
THIRD_PERSON: Final = ("报警人称", "来电人反映", "市民来电称", "群众反映", "来电称", "报警人张先生称", "李女士来电反映")
WEB: Final = ("【网络留言】", "【市长信箱】", "网友留言：", "市民来信：", "【随手拍】", "微信公众号留言：")
WEB_END: Final = ("望有关部门尽快处理。", "请尽快解决！", "恳请领导重视。", "希望给个答复。", "")
FILLERS: Final = (
    "就是说，",
    "然后呢，",
    "反正就是，",
    "你听我说，",
    "咋说呢，",
    "还有就是，",
    "关键是，",
    "而且，",
    "对了，",
)
VILLAGES: Final = (
    "张庄村",
    "李楼村",
    "王湾村",
    "刘寨村",
    "陈岗村",
    "杨庄村",
    "赵桥村",
    "孙岗村",
    "周楼村",
    "吴湾村",
    "马庄村",
    "朱楼村",
    "胡寨村",
    "郭庄村",
    "何庄村",
    "高庄村",
    "罗湾村",
    "梁庄村",
    "宋庄村",
    "郑桥村",
)
ESTATES: Final = (
    "建业森林半岛",
    "恒大名都",
    "碧桂园",
    "天中花园",
    "金桥花园",
    "东方明珠小区",
    "阳光小区",
    "铁路家属院",
    "化肥厂家属院",
    "凤凰城",
    "正商城",
    "书香门第",
    "幸福家园",
    "锦绣江南",
    "育才小区",
)
CITY_PLACES: Final = (
    "解放大道与中华路交叉口",
    "交通路永辉超市门口",
    "雪松大道",
    "文明大道与风光路交叉口",
    "练江大道",
    "骏马路",
    "乐山大道",
    "天中山大道",
    "置地大道",
    "驿城大道",
    "开源大道",
    "铜山大道",
    "人民公园",
    "市中心医院门口",
    "驻马店火车站",
    "万达广场",
    "107国道",
    "京港澳高速驻马店段",
    "大广高速",
)


def _place(rng: random.Random) -> tuple[str, str]:
    """(address, district field) for a request; either may be empty."""
    roll = rng.random()
    if roll < 0.25:
        return "", ""
    if roll < 0.5:
        place = rng.choice(CITY_PLACES)
        return place, rng.choice(("驿城区", "", ""))
    district = rng.choice(DISTRICTS)
    town = rng.choice(district.towns)
    if roll < 0.8:
        return f"{district.name_zh}{town}{rng.choice(VILLAGES)}", rng.choice((district.name_zh, "", district.code))
    return f"{district.name_zh}{rng.choice(ESTATES)}{rng.randint(1, 20)}号楼", rng.choice((district.name_zh, ""))


DIALECT_SWAPS: Final = (
    ("我们", "俺们"),
    ("我", "俺"),
    ("没有", "木有"),
    ("什么", "啥"),
    ("怎么", "咋"),
    ("你们", "恁"),
    ("干什么", "弄啥"),
    ("不舒服", "不得劲"),
    ("昨天", "夜儿个"),
    ("今天", "今儿个"),
    ("女孩", "小妮儿"),
    ("很", "可"),
    ("特别", "老"),
    ("了，", "嘞，"),
)
# Homophone errors seen in speech transcription: the word heard, the word written.
ASR: Final = (
    ("打架", "打价"),
    ("着火", "着伙"),
    ("起火", "起伙"),
    ("燃气", "然气"),
    ("煤气", "媒气"),
    ("漏气", "露气"),
    ("路灯", "路登"),
    ("垃圾", "拉基"),
    ("井盖", "井改"),
    ("停水", "停谁"),
    ("停电", "停店"),
    ("暖气", "暖器"),
    ("施工", "师工"),
    ("噪音", "燥音"),
    ("诈骗", "炸骗"),
    ("被骗", "被片"),
    ("小偷", "小透"),
    ("孩子", "孩纸"),
    ("车祸", "车货"),
    ("红绿灯", "红路灯"),
    ("信号灯", "信号等"),
    ("救护车", "就护车"),
    ("昏迷", "婚迷"),
    ("晕倒", "云倒"),
    ("摊贩", "摊犯"),
    ("违建", "维建"),
    ("坍塌", "摊塌"),
    ("泄漏", "泄露"),
    ("化学", "化雪"),
    ("积水", "急水"),
    ("赌博", "堵博"),
    ("喝醉", "喝最"),
    ("医院", "一院"),
    ("医生", "一生"),
    ("中毒", "中读"),
    ("拉肚子", "拉度子"),
    ("传染", "船染"),
    ("扬尘", "洋尘"),
    ("渣土", "渣图"),
    ("护栏", "户栏"),
    ("坑", "吭"),
    ("电动车", "电东车"),
    ("公交车", "公交射"),
    ("出租车", "出组车"),
    ("工地", "公地"),
    ("走丢", "走丢儿"),
    ("天然气", "天然器"),
    ("暴雨", "爆雨"),
    ("滑坡", "滑破"),
    ("倒塌", "到塌"),
    ("隐患", "引患"),
    ("楼道", "楼到"),
    ("受伤", "受桑"),
    ("流血", "流学"),
    ("撞", "壮"),
    ("偷", "头"),
    ("抢", "强"),
    ("吵", "炒"),
)
NOISE_WORDS: Final = ("嗯", "呃", "那个", "就是", "啊")


def _dialect(text: str, rng: random.Random) -> str:
    for src, dst in DIALECT_SWAPS:
        if src in text and rng.random() < 0.6:
            text = text.replace(src, dst)
    return text


def _asr(text: str, rng: random.Random) -> str:
    hits = [(s, d) for s, d in ASR if s in text]
    for src, dst in rng.sample(hits, k=min(len(hits), rng.randint(1, 2))):
        text = text.replace(src, dst, 1)
    if rng.random() < 0.5:
        text = re.sub(r"[，。？！、]", "", text)  # transcripts often come without punctuation
    if rng.random() < 0.3:
        cut = rng.randrange(0, max(1, len(text)))
        text = text[:cut] + rng.choice(NOISE_WORDS) + text[cut:]
    return text


def _third_person(text: str) -> str:
    return text.replace("我们", "他们").replace("俺们", "他们").replace("我", "其").replace("俺", "其")


ONGOING_HINT: Final = re.compile("还在|正在|现在|到现在|至今|一直|又|天天|每天")

# Label-changing additions: (text, effect). Effects: "mild" someone hurt (health, at least P2);
# "severe" (health, P1); "noharm" (one level lower, no health); "past" (one level lower).
MODIFIERS: Final[dict[str, tuple[str, ...]]] = {
    "mild": ("有个人受了点伤", "有人胳膊擦破了，流了点血", "有个人头上出血了", "好像有人受伤了", "有一个人腿受伤了"),
    "severe": ("有个人躺在地上一动不动", "有个人已经昏迷了", "那人流了好多血", "有个人叫不醒了", "有人被困在里面了"),
    "noharm": ("好在没人受伤", "人都没事", "木有人受伤", "没有人员伤亡"),
    "past": ("这是昨天的事了", "事情已经过去了，想备个案", "前几天的事，今天才想起来报"),
}
MODIFIER_CATEGORIES: Final[dict[str, frozenset[str]]] = {
    "mild": frozenset(
        {"police.violence", "transport.accident", "emergency.fire", "emergency.collapse", "emergency.natural_disaster"}
    ),
    "severe": frozenset(
        {"police.violence", "transport.accident", "emergency.fire", "emergency.collapse", "emergency.natural_disaster"}
    ),
    "noharm": frozenset({"police.violence", "transport.accident", "emergency.collapse"}),
    "past": frozenset({"police.violence", "police.theft", "police.fraud", "transport.accident", "police.dispute"}),
}


def _lower(priority: str) -> str:
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, 3)]


def _modify(frag: Fragment, rng: random.Random) -> tuple[str, str, tuple[str, ...]]:
    """Maybe add a label-changing sentence; returns (text, priority, also)."""
    text, priority, also = frag.text, frag.priority, frag.also
    if frag.annotated or rng.random() > 0.3:
        return text, priority, also
    effects = [e for e, cats in MODIFIER_CATEGORIES.items() if frag.category in cats]
    if not effects:
        return text, priority, also
    effect = rng.choice(effects)
    if effect == "past" and ONGOING_HINT.search(text):
        return text, priority, also
    sentence = rng.choice(MODIFIERS[effect])
    if effect == "mild":
        priority = min(priority, "P2")
        also = tuple(dict.fromkeys((*also, "health")))
    elif effect == "severe":
        priority = "P1"
        also = tuple(dict.fromkeys((*also, "health")))
    else:
        priority = _lower(priority)
        if effect == "noharm":
            also = tuple(a for a in also if a != "health")
    return f"{text}，{sentence}", priority, also


def _render(frag: Fragment, others: list[Fragment], rng: random.Random) -> dict[str, object]:
    """One wrapped request built around ``frag`` (sometimes joined with another fragment)."""
    text, priority, also = _modify(frag, rng)
    address, district = _place(rng)
    style = rng.random()
    if text != frag.text and 0.68 <= style < 0.80:
        style = 0.0  # a label-changing sentence belongs to this incident alone: no second one
    if style < 0.22:
        body = text
    elif style < 0.42:
        body = rng.choice(OPENERS) + text
    elif style < 0.55:
        body = f"{text}，{rng.choice(CLOSERS)}"
    elif style < 0.68:
        where = f"在{address}，" if address and rng.random() < 0.7 else ""
        body = f"{rng.choice(OPENERS)}{where}{text}，{rng.choice(CLOSERS)}"
    elif style < 0.80:
        other = rng.choice([o for o in others if o is not frag] or [frag])
        body = f"{rng.choice(OPENERS)}{text}，{rng.choice(FILLERS)}{other.text}，{rng.choice(CLOSERS)}"
        priority = min(priority, other.priority)
        also = tuple(dict.fromkeys((*also, *other.also)))
    elif style < 0.90:
        body = f"{rng.choice(THIRD_PERSON)}{_third_person(text)}"
        if address and rng.random() < 0.5:
            body = f"{rng.choice(THIRD_PERSON)}在{address}{_third_person(text)}"
    else:
        body = f"{rng.choice(WEB)}{text}。{rng.choice(WEB_END)}"
    if rng.random() < 0.3:
        body = _dialect(body, rng)
    if rng.random() < 0.25:
        body = _asr(body, rng)
    if not re.search(r"[。！？!?]$", body) and rng.random() < 0.5:
        body += rng.choice("。！")
    return {
        "text": body,
        "address": address,
        "district": district,
        "category": frag.category,
        "priority": priority,
        "also": list(also),
        "fragment": frag.text,
    }


def build(per_category: int = PER_CATEGORY, seed: int = SEED) -> list[dict[str, object]]:
    """The corpus records: ``per_category`` distinct texts for every category.

    Each record also names the ``fragment`` it was built around, so that cross-validation
    can keep all variants of one fragment on the same side of a split.
    """
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    for category in CATEGORIES:
        frags = parse(category, FRAGMENTS[category])
        seen: set[str] = set()
        # Every fragment once as written, then wrapped variants until the quota is met.
        for frag in frags:
            seen.add(frag.text)
            records.append(
                {
                    "text": frag.text,
                    "address": "",
                    "district": "",
                    "category": category,
                    "priority": frag.priority,
                    "also": list(frag.also),
                    "fragment": frag.text,
                }
            )
        attempts = 0
        count = len(frags)
        while count < per_category and attempts < per_category * 20:
            attempts += 1
            record = _render(rng.choice(frags), frags, rng)
            if record["text"] in seen:
                continue
            seen.add(str(record["text"]))
            records.append(record)
            count += 1
    return records


def main() -> None:
    """Write the corpus file and print the count per category."""
    records = build()
    with open(OUT, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} examples to {OUT}")


if __name__ == "__main__":
    main()
