"""Danger signs: each is found in the ways callers put it, not when it is denied, and it sets
a floor under the priority that the rules may raise but never lower."""

from __future__ import annotations

import pytest

import routing
from routing.danger import find_signs
from routing.rules import priority_floor
from routing.text import features, normalise


def signs(text: str) -> set[str]:
    return set(find_signs(normalise(text)))


def floor_of(category: str, text: str) -> tuple[str | None, list[str]]:
    """The floor the rules put under a raw text of ``category``, with its reasons."""
    normal = normalise(text)
    return priority_floor(category, normal, find_signs(normal))


@pytest.mark.parametrize(
    "text",
    [
        "司机卡在车里出不来了",
        "两个人被困在电梯里",
        "房子塌了，有人压在下面",
        "他的腿被压在车底下",
        "门变形了打不开，人在里头",
        "小孩掉进下水道井里了",
        "面包车翻沟里了，不知道里面有没有人",
        "撞车了 人卡里面了 车头都瘪了",
        "停电了，电梯里还关着人",
        "渣土车把一个骑电动车的卷到车底下了，人还在底下",
        "护栏倒了 压着人了",
        "司机还没出来",
        "停电了！整栋楼！电梯里有人！",
        "大树倒路上了！砸住一辆电动车！人还压着呢！",
        "孩子被锁公交车里了！车停场里了！",
    ],
)
def test_someone_trapped_is_a_sign(text: str) -> None:
    assert "trapped" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "人躺地上叫不醒",
        "他头上流血，问他啥都不知道",
        "老人昏过去了",
        "喊他没反应",
        "说胡话，迷迷糊糊的",
        "倒在路边一动不动",
        "吃了蘑菇 人不行了",
        "公交车上一个小伙子突然抽起来了",
        "司机趴在方向盘上不动",
        "一个人已经说不出话了",
        "老太太已经吐得站不住了",
        "俺爹躺床上一动不动，叫也不应",
        "一村人都在烧！好几个晕了！",
        "现在话都说不清了，叫他也不太应",
        "说话颠三倒四的，好像找不着家",
        "好多人发烧！有个倒了！",
        "吃饭吃倒了好几个！",
        "老头躺那不动弹",
    ],
)
def test_someone_unconscious_or_confused_is_a_sign(text: str) -> None:
    assert "unconscious" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "手上一直在流血",
        "满脸是血",
        "头上开了个大口子",
        "血流了一地",
        "开收割机的那人脑门上有血",
        "划伤了腿，血不少",
        "乘客额头磕破了，流了点血",
        "头上流学了快叫就护车",
    ],
)
def test_bleeding_is_a_sign(text: str) -> None:
    assert "bleeding" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "腿好像断了",
        "胳膊摔骨折了",
        "脚踝都变形了",
        "俺爹的腿折了",
        "手腕动不了了",
        "孩子在哭 看着腿不对劲 弯的",
        "老头躺那，腿都拧过去了",
    ],
)
def test_a_broken_limb_is_a_sign(text: str) -> None:
    assert "broken_limb" in signs(text)


@pytest.mark.parametrize(
    "text", ["楼道里全是浓烟，楼上还住着人", "车在冒烟，司机还在车里", "屋里着火了，孩子在里面", "火越来越大了"]
)
def test_fire_or_smoke_near_people_is_a_sign(text: str) -> None:
    assert "fire_near_people" in signs(text)


@pytest.mark.parametrize(
    "text", ["水越涨越高，几个人站在车顶上", "洪水漫进屋里，老人还在屋里", "有个小孩掉河里了", "水都淹到腰了"]
)
def test_water_rising_around_people_is_a_sign(text: str) -> None:
    assert "water_rising" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "他拿着菜刀追人",
        "有人持刀抢劫",
        "掂着钢管要打人",
        "拿啤酒瓶砸人头",
        "一帮人拿着锄头堵在门口",
        "抡起棍子就打",
        "后来就从车里拿了把刀出来",
        "手里拿着个砸碎的啤酒瓶子在那比划",
        "饭店包间里有人掏出刀了",
    ],
)
def test_a_weapon_is_a_sign(text: str) -> None:
    assert "weapon" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "有人正在撬隔壁的门",
        "骗子还在打电话让我转账",
        "他们现在还在打",
        "小偷还在车厢里",
        "有人在撬我隔壁家的门",
        "有个人正在拽我的包",
        "骗子让我开屏幕共享，我现在正在按他说的操作",
        "对方冒充客服，现在还在跟我妈视频通话",
        "她现在正在银行排队要转钱",
        "有人翻墙进了我家院子，在屋里翻东西",
        "抓小偷！就在超市后门",
        "有人在工地上偷电缆，现在还在剪",
        "被骗了！刚转走两万！",
        "老大爷非要往外地一个账户汇二十万",
        "快帮我冻结！正在转！",
        "我妈在银行要转钱给骗子",
        "他现在就在那个网点，正在柜台排队呢",
        "俺店里进贼了，这会儿还在里头翻嘞",
        "俺爹接了个电话就去银行转钱了，拦都拦不住",
    ],
)
def test_a_crime_in_progress_is_a_sign(text: str) -> None:
    assert "crime_in_progress" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "俺家孩子一个人在家，门锁着",
        "孩子被锁在车里了",
        "独居老人好几天没出门",
        "老人走丢了，有老年痴呆",
        "小孩找不到了",
        "养老院一个老人翻墙出去了",
        "儿媳妇不叫俺进门，俺七十多了，天恁冷",
    ],
)
def test_a_child_or_an_elderly_person_alone_is_a_sign(text: str) -> None:
    assert "vulnerable_alone" in signs(text)


@pytest.mark.parametrize(
    "text", ["有个男的一直跟着我", "吵起来了 要打了", "吵起来了，要动手了，快来", "一个穿红衣服的女的往东门跑了"]
)
def test_a_fight_about_to_start_or_an_offender_still_near_is_a_sign(text: str) -> None:
    assert "confrontation" in signs(text)


@pytest.mark.parametrize("text", ["要跳楼了", "老太太哭着说不活了", "他喝了农药", "说不给钱就从楼上跳下去"])
def test_someone_about_to_harm_themselves_is_a_sign(text: str) -> None:
    assert "self_harm" in signs(text)


@pytest.mark.parametrize("text", ["路灯杆漏电，狗被电死了", "路灯杆在冒火花，底下有人等车", "电线掉下来了 还有电"])
def test_a_live_wire_is_a_sign(text: str) -> None:
    assert "live_wire" in signs(text)


@pytest.mark.parametrize(
    "text", ["我老公吃完就嘴唇发紫，喘不上气", "孩子呼吸困难，脸都紫了", "老人被噎住了", "憋得喘不过气来"]
)
def test_someone_struggling_to_breathe_is_a_sign(text: str) -> None:
    assert "breathing" in signs(text)


@pytest.mark.parametrize(
    "text", ["撞人了！快来！", "三轮车把一个小孩撞了", "一辆汽车冲上人行道撞倒了两个人", "老人被车撞了躺在路边"]
)
def test_someone_hit_by_a_vehicle_is_a_sign(text: str) -> None:
    assert "struck" in signs(text)


@pytest.mark.parametrize(
    "text", ["停电了，家里有个老人用制氧机", "俺爹的制氧机停了，他喘得厉害", "一断电，呼吸机就用不了了"]
)
def test_a_life_support_machine_without_power_is_a_sign(text: str) -> None:
    assert "life_support" in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "工地夜里十二点还在打桩",
        "超市的鸡蛋过期了还在打折卖",
        "堵车堵了一个钟头了，一动不动",
        "人行道的红绿灯按钮按了没反应",
        "卖建材的天天把钢管跟水泥堆在路边",
        "路灯杆被车撞弯了",
        "楼梯口堆满棉被，万一着火人都跑不出来",
        "这个卡在他们这不能用",
        "家里没气了做不了饭",
        "业主群里都炸了",
        "村头沟里有人倒了好几桶不知道什么东西",
        "我头晕了一上午",
        "前面的车正在转弯",
        "天天下午一帮人在里头赌钱",
    ],
)
def test_words_that_only_look_like_danger_show_no_sign(text: str) -> None:
    assert signs(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "两车相撞，没有人被困，人都没事",
        "打不着火了",
        "献血车停在门口",
        "火锅店排队的人太多",
        "没有流血",
        "擦了一下，没有血",
    ],
)
def test_denials_and_false_friends_show_no_sign(text: str) -> None:
    assert signs(text) == set()


def test_signs_are_features_of_the_model() -> None:
    assert features("司机卡在车里出不来")["!trapped"] == 1
    assert "!trapped" not in features("车停在路边")


def test_a_sign_sets_a_floor_but_a_past_event_does_not() -> None:
    floor, reasons = floor_of("transport.accident", "司机卡在车里出不来")
    assert floor == "P1" and any("有人被困" in r for r in reasons)
    assert floor_of("police.violence", "上周被人拿刀划了一下，已经好了，想备个案")[0] is None


@pytest.mark.parametrize(
    "text",
    [
        "撞人了！快来人！人躺地上不动了",
        "车在冒烟，司机卡在里面出不来",
        "他头上流血，问他啥都不知道",
        "下穿隧道里水越涨越高，几个人站在车顶上",
        "骗子还在电话上，让我马上转账",
        "有人拿着刀在小区里追人",
        "撞人了！快来人",
        "撞车了 人卡里面了",
        "一辆车撞了，腿明显断了，骨头都露出来了",
        "头上磕了个口子，人迷迷糊糊的，问啥都不知道",
        "下穿通道里水到胸口了，我们站在车顶上",
        "骗子还在打电话，让我转账",
        "我老公吃完就嘴唇发紫，喘不上气",
        "停电了，俺爹的制氧机停了",
        "老人被车撞了躺在路边",
    ],
)
def test_a_life_threatening_call_never_comes_out_below_p2(text: str) -> None:
    result = routing.classify(text)
    assert result.priority in ("P1", "P2"), (result.priority, result.reasons)


def test_someone_hurt_now_brings_an_ambulance_but_not_after_the_event() -> None:
    from routing.rules import decide_assisting

    assisting, reasons = decide_assisting("police.violence", normalise("一锨拍到脑壳上，血流一地，恁快点来吧"))
    assert "health" in assisting and any("血流" in r for r in reasons)
    past, _ = decide_assisting("police.violence", normalise("上周被人打了，头上流血，已经好了，想备个案"))
    assert "health" not in past


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("health.food_safety", "工地伙房的菜吃了以后，十来个工人都吐了"),
        ("health.food_safety", "吃了野蘑菇，一家四口都肚子疼"),
        ("transport.signal", "火车道口的栏杆火车来了没放下来"),
        ("transport.signal", "红绿灯一个方向是绿的，另一个方向也是绿的"),
        ("emergency.hazard", "电线杆子要倒了！下面有小孩！"),
    ],
)
def test_category_rules_set_p1_where_many_or_everyone_is_at_risk(category: str, text: str) -> None:
    assert floor_of(category, text)[0] == "P1"


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("urban.illegal_building", "墙要倒了！加盖的那堵！底下有人！"),
        ("emergency.hazard", "我们楼顶上那个水塔歪了往下掉混泥土块下面是幼儿园门口正在放学"),
        ("transport.signal", "红绿灯杆子叫大车撞歪了，眼看着就要砸下来，底下还有人在等灯哩"),
        ("emergency.natural_disaster", "山体开裂，裂缝越来越大，下面就是学校"),
        ("urban.facility", "广告牌一直晃，底下就是公交站好多人在那等车，随时要掉下来"),
    ],
)
def test_something_about_to_fall_on_people_sets_p1(category: str, text: str) -> None:
    floor, reasons = floor_of(category, text)
    assert floor == "P1" and any("坠落或倒塌危及人员" in r for r in reasons), reasons


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("urban.facility", "这个墙要倒了，旁边没人"),
        ("urban.facility", "万一砸下来底下有人怎么办"),
        ("urban.street_light", "路灯杆被车撞歪了"),
        ("urban.street_light", "路灯杆歪着要倒，底下天天有人走"),
    ],
)
def test_something_giving_way_with_nobody_near_or_only_imagined_sets_no_p1(category: str, text: str) -> None:
    assert floor_of(category, text)[0] != "P1"


@pytest.mark.parametrize(
    ("text", "floor"),
    [("网约车司机不停车！往野地里开！救我！", "P1"), ("司机睡着了！公交车！快！", "P2"), ("司机开得左摇右晃", "P2")],
)
def test_a_passenger_in_danger_sets_a_floor(text: str, floor: str) -> None:
    assert floor_of("transport.transit", text)[0] == floor
