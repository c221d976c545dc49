"""Jurisdictions of 驻马店市: the districts a desk can serve and a request can happen in.

``towns`` lists the towns (镇), townships (乡) and sub-district offices (街道) of each district,
as best known when written (2020s administrative divisions; a few have since been renamed or
merged). Each name belongs to one district only, so finding it in an address identifies the
district. ``lat``/``lon`` is an approximate centre (the seat) and ``radius_km`` the radius of a
rough circle covering the district; the development zones are small circles inside 驿城区.
They are approximations for routing, not survey data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class District:
    """A district (区/县) or development zone; ``code`` is the stable identifier."""

    code: str
    name_zh: str
    name_en: str
    # Towns, townships and sub-district offices whose names identify the district in an address.
    towns: tuple[str, ...] = ()
    # Approximate centre (WGS-84 degrees) and radius of a circle covering the district.
    lat: float = 0.0
    lon: float = 0.0
    radius_km: float = 0.0


def _towns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


DISTRICTS: Final[tuple[District, ...]] = (
    District(
        "yicheng",
        "驿城区",
        "Yicheng District",
        _towns(
            "西园街道 东风街道 新华街道 南海街道 老街街道 雪松街道 橡林街道 顺河街道 人民街道 "
            "水屯镇 沙河店镇 板桥镇 诸市镇 蚁蜂镇 胡庙乡 朱古洞乡 老河乡 古城乡"
        ),
        33.011,
        114.022,
        30.0,
    ),
    District(
        "xiping",
        "西平县",
        "Xiping County",
        _towns(
            "柏城街道 柏亭街道 柏苑街道 五沟营镇 权寨镇 师灵镇 出山镇 盆尧镇 宋集镇 吕店镇 "
            "专探乡 焦庄乡 重渠乡 人和乡 谭店乡 蔡寨回族乡 杨庄乡 二郎乡 芦庙乡"
        ),
        33.388,
        114.021,
        25.0,
    ),
    District(
        "shangcai",
        "上蔡县",
        "Shangcai County",
        _towns(
            "蔡都街道 卧龙街道 重阳街道 芦岗街道 黄埠镇 杨集镇 洙湖镇 党店镇 朱里镇 华陂镇 塔桥镇 "
            "东洪镇 邵店镇 五龙镇 和店镇 蔡沟镇 韩寨镇 大路李乡 无量寺乡 东岸乡 西洪乡 百尺乡 "
            "小岳寺乡 崇礼乡 齐海乡 杨屯乡"
        ),
        33.262,
        114.264,
        28.0,
    ),
    District(
        "pingyu",
        "平舆县",
        "Pingyu County",
        _towns(
            "古槐街道 清河街道 东皇街道 杨埠镇 东和店镇 庙湾镇 射桥镇 西洋店镇 阳城镇 郭楼镇 "
            "万金店镇 高杨店乡 万冢乡 十字路乡 李屯乡 玉皇庙乡 老王岗乡 辛店乡 双庙乡"
        ),
        32.962,
        114.619,
        25.0,
    ),
    District(
        "zhengyang",
        "正阳县",
        "Zhengyang County",
        _towns(
            "真阳街道 慎水街道 清源街道 寒冻镇 汝南埠镇 铜钟镇 陡沟镇 熊寨镇 大林镇 永兴镇 袁寨镇 "
            "兰青乡 彭桥乡 皮店乡 新阮店乡 油坊店乡 雷寨乡 闾河乡 付寨乡 王勿桥乡 吕河乡"
        ),
        32.605,
        114.392,
        30.0,
    ),
    District(
        "queshan",
        "确山县",
        "Queshan County",
        _towns(
            "盘龙街道 三里河街道 朗陵街道 竹沟镇 任店镇 新安店镇 留庄镇 刘店镇 双河镇 石滚河镇 李新店镇 普会寺乡 瓦岗镇"
        ),
        32.803,
        114.026,
        30.0,
    ),
    District(
        "biyang",
        "泌阳县",
        "Biyang County",
        _towns(
            "泌水街道 花园街道 古城街道 羊册镇 马谷田镇 春水镇 官庄镇 赊湾镇 郭集镇 泰山庙镇 "
            "王店镇 高店镇 付庄乡 黄山口乡 下碑寺乡 铜山乡 双庙街乡 象河乡 贾楼乡 盘古乡 杨家集镇"
        ),
        32.724,
        113.327,
        40.0,
    ),
    District(
        "runan",
        "汝南县",
        "Runan County",
        _towns(
            "汝宁街道 古塔街道 三门闸街道 宿鸭湖街道 老君庙镇 和孝镇 留盆镇 金铺镇 东官庄镇 常兴镇 "
            "罗店镇 三桥镇 王岗镇 梁祝镇 韩庄镇 南余店乡 张楼乡 板店乡"
        ),
        33.007,
        114.362,
        25.0,
    ),
    District(
        "suiping",
        "遂平县",
        "Suiping County",
        _towns(
            "灈阳街道 莲花湖街道 车站镇 文城乡 石寨铺镇 和兴镇 阳丰镇 褚堂乡 嵖岈山镇 槐树乡 "
            "沈寨镇 花庄镇 玉山镇 常庄镇 张台乡"
        ),
        33.146,
        114.013,
        22.0,
    ),
    District(
        "xincai",
        "新蔡县",
        "Xincai County",
        _towns(
            "古吕街道 今是街道 月亮湾街道 练村镇 棠村镇 韩集镇 龙口镇 李桥回族镇 黄楼镇 孙召镇 "
            "砖店镇 陈店镇 佛阁寺镇 化庄乡 栎城乡 弥陀寺乡 宋岗乡 顿岗乡 余店乡 杨庄户乡 河坞乡 关津乡"
        ),
        32.749,
        114.985,
        30.0,
    ),
    District(
        "kaifaqu",
        "经济开发区",
        "Economic Development Zone",
        _towns("关王庙乡 金河街道 开源街道 金山街道"),
        32.970,
        113.975,
        4.0,
    ),
    District(
        "gaoxinqu",
        "高新区",
        "High-tech Zone",
        _towns("高新技术产业开发区 产业集聚区 驿城大道东段"),
        33.030,
        114.075,
        3.5,
    ),
)

DISTRICTS_BY_CODE: Final[dict[str, District]] = {d.code: d for d in DISTRICTS}
DISTRICTS_BY_NAME: Final[dict[str, District]] = {d.name_zh: d for d in DISTRICTS}


def find_district(name_or_code: str) -> District | None:
    """The district named by its code (``yicheng``) or Chinese name (``驿城区``), else None."""
    key = name_or_code.strip()
    return DISTRICTS_BY_CODE.get(key.lower()) or DISTRICTS_BY_NAME.get(key)


def default_desks(agency_codes: tuple[str, ...] | list[str]) -> list[tuple[str, str, str, tuple[str, ...], bool]]:
    """The desks a new installation starts with: for every agency a city-level desk (市级) and
    one desk per district; ``(code, agency, name, districts, city_level)``. An administrator
    changes them at run time (``PUT /api/v1/desks/{code}``, ``dispatch desks``)."""
    desks: list[tuple[str, str, str, tuple[str, ...], bool]] = []
    for agency in agency_codes:
        desks.append((f"{agency}.city", agency, f"{agency} 市级指挥席", (), True))
        desks += [(f"{agency}.{d.code}", agency, f"{agency} {d.name_zh}", (d.code,), False) for d in DISTRICTS]
    return desks
