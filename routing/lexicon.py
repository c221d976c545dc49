"""Concept lexicon: groups of words that mean the same thing to a dispatcher.

Every concept becomes one extra feature of the classifier (``#concept``), counted once per
word found. The model learns how much each concept counts for each category from the corpus;
the lexicon lets it generalise to words the corpus never used ("干仗" counts as a fight
because it is listed under 打斗, beside the words the corpus did use). Adding a synonym here
is the cheapest fix for a miss on a known word; retrain afterwards.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

CONCEPTS: Final[dict[str, str]] = {
    "打斗": "打架 打人 打起来 动手 干仗 干起来 掐架 掐起来 斗殴 殴打 互殴 群殴 围殴 打群架 揍 挨打 挨揍 扇 耳光 踹 "
    "一拳 推搡 撕扯 扭打 砸人 追着打 按着打 家暴 暴打 暴力 打了一顿 开瓢 拽 打伤 砍人 捅",
    "凶器": "刀 棍 钢管 甩棍 砖头 酒瓶 啤酒瓶 铁锨 锄头 斧头 枪 匕首 扳手 皮带",
    "盗抢": "偷 盗 小偷 贼 扒 扒手 摸走 顺走 被盗 失窃 抢 抢劫 "
    "抢夺 飞车 撬 撬锁 入室 偷剪 冒领 拉走 推走 卸走 遭贼 少了",
    "诈骗": "骗 诈骗 骗子 被骗 冒充 转账 转了 汇款 打钱 刷单 返利 验证码 链接 安全账户 客服 理财 投资 平台 网贷 贷款 "
    "中奖 手续费 保证金 解冻 假币 杀猪盘 敲诈 征信 拉黑 跑路 app 下载 扫码 监管账户 公检法 检察院 保健品",
    "走失": "走失 走丢 走散 跑丢 失踪 离家出走 没回家 没回来 没到家 联系不上 找不到 找不着 寻人 迷路 下落不明 音信 "
    "老年痴呆 痴呆 阿尔茨海默 认知障碍 脑子不清楚 糊涂 记性不好 智力 精神病 精神不正常 找不到家 离校",
    "纠纷": "纠纷 吵架 吵起来 争执 矛盾 调解 不退 退款 退费 押金 拖欠 欠薪 工钱 工资 赔偿 不认账 不讲理 理论 扯皮 "
    "协商 耍赖 宅基地 分家 赡养 彩礼 抚养 物业 房东 商家 中介 合同 定金 多收 不承认 推来推去 要说法",
    "扰民": "噪音 吵 扰民 喧哗 大声 喇叭 睡不着 大喊大叫",
    # People making merry (night construction is noise too, but nobody sings at it).
    "玩乐": "唱歌 唱 嚎 音响 音乐 放歌 广场舞 跳舞 划拳 ktv 卡拉ok 鞭炮 烟花 炸街 轰油门 排气管 dj 低音炮 吹牛 弹吉他 "
    "派对 蹦迪 聚会 喝酒",
    "夜间": "半夜 深夜 凌晨 夜里 晚上 夜间 十一点 十二点 一点 两点 通宵 一晚上",
    "赌醉": "赌博 赌钱 赌 麻将 打牌 扑克 棋牌 赌场 赌博机 醉 喝多 喝醉 酒鬼 醉汉 酒蒙子 撒酒疯 闹事 滋事 寻衅 耍流氓 "
    "卖淫 嫖娼 拉客 吸毒 混混 要钱",
    "车辆": "车 轿车 汽车 货车 大车 面包车 三轮 电动车 电瓶车 摩托 自行车 客车 校车 suv 半挂 收割机 司机 开车 骑车",
    "撞车": "撞 相撞 撞上 追尾 剐蹭 刮蹭 蹭 碰了 刮倒 别倒 翻车 "
    "侧翻 翻了 翻到 车祸 事故 肇事 逃逸 连环 定责 事故认定 保险 栽进",
    "信号": "红绿灯 信号灯 红灯 绿灯 黄灯 黄闪 闪黄 倒计时 指示牌 标志 标牌 标线 斑马线 限速 禁止 路牌 警示灯 配时 "
    "过街按钮 箭头 让行 限高 电子显示屏",
    "路面": "路面 坑 坑洼 窟窿 大洞 塌陷 下沉 开裂 裂缝 鼓包 拱起 "
    "起皮 沥青 柏油 水泥路 路基 桥面 减速带 爆胎 颠 搓衣板 压烂 压坏",
    "堵路": "堵 堵车 拥堵 挡路 挡住 障碍 掉落 散落 抛锚 熄火 违停 "
    "乱停 卸货 横在 路中间 晒粮 晒麦 过不去 通行 绕着 堵死 避让",
    "客运": "公交 出租车 出租 网约车 滴滴 打车 班车 客车 拒载 绕路 绕远 打表 一口价 不停 到站 司机态度 车费 加价 黑车 "
    "拼客 站牌 末班车 老年卡 投币 超员 超载 晚点 发车",
    "急症": "晕倒 昏迷 昏过去 晕过去 叫不醒 不省人事 人事不省 抽搐 抽起来 "
    "心脏 心梗 冠心病 胸闷 胸口 喘不上 呼吸困难 休克 "
    "中风 脑梗 半边身子 嘴歪 高烧 羊水 要生了 噎住 卡住 农药 百草枯 中暑 触电 电打 低血糖 心慌 冷汗 救护车 120 急救 "
    "心肺复苏 按压 蛇 咬 烫伤 不行了 栽地上 倒了 嘴唇发紫 脸都青 迷糊 说胡话",
    "饮食": "吃 饭 饭店 食堂 外卖 小吃 餐 凉菜 熟食 卤肉 肉 蘑菇 饮料 奶 奶粉 酸奶 食品 食物 过期 变质 发霉 胀袋 发酸 "
    "不新鲜 地沟油 三无 虫子 苍蝇 蟑螂 头发 健康证 检疫 拉肚子 闹肚子 腹泻 上吐下泻 肚子疼 中毒 吃席 后厨 炸串 油",
    "传染": "传染 传染病 疫情 疫区 发烧 发热 咳嗽 流感 手足口 水痘 肺结核 结核 禽流感 麻疹 腮腺炎 猩红热 诺如 红眼病 "
    "狂犬 疯狗 隔离 确诊 病例 集体 一个接一个 传开 传得 布病 布鲁氏菌 出血热 甲肝 皮疹 疹子 蜱虫 起泡",
    "医疗": "医院 医生 护士 大夫 诊所 卫生院 卫生室 看病 门诊 挂号 排队 收费 报销 新农合 医保 态度 误诊 开药 药店 药房 "
    "药价 病历 体检 手术 住院 输液 打针 红包 医闹 核磁 检查 调度",
    "路灯": "路灯 灯 不亮 灭了 全黑 黑乎乎 黑咕隆咚 黑灯瞎火 伸手不见五指 灯杆 灯泡 灯罩 灯头 照明 通电 一闪一闪",
    "垃圾": "垃圾 垃圾桶 垃圾箱 垃圾站 清运 清理 打扫 环卫 清洁工 臭 臭味 发臭 公厕 厕所 粪 粪便 狗屎 鸽子屎 泔水 "
    "污水 化粪池 死老鼠 死猫 死狗 生蛆 倾倒 乱扔 乱倒 焚烧 烧垃圾 塑料袋 饭盒 烟头 烂菜叶",
    "摆摊": "摆摊 摊 摊贩 小贩 商贩 地摊 占道 占道经营 推车 小推车 卖菜 卖水果 卖西瓜 夜市 烧烤摊 早点摊 桌椅 "
    "促销 马路市场 流动 一字排开 卖饭 卖盒饭 活禽 修车铺 支了",
    "违建": "违建 违章 违章建筑 私搭乱建 搭建 加盖 盖房 起房子 扩建 外扩 彩钢 铁皮 棚 圈地 圈起来 砌墙 封起来 规划 "
    "许可 窝棚 改建 再盖一层 打通 往外推 地基",
    "设施": "井盖 盖子 护栏 栏杆 扶手 隔离栏 健身器材 座椅 地砖 盲道 篦子 消防栓 候车亭 站牌 雕塑 花坛 防撞墩 石墩 "
    "下水井 雨水井 木桥 铁盖",
    "施工": "工地 施工 打桩 打桩机 搅拌车 搅拌站 泵车 浇筑 混凝土 渣土 渣土车 拉土 扬尘 灰尘 粉尘 土堆 盖网 篷布 装修 "
    "电钻 电锤 砸墙 切割 切割机 挖掘机 塔吊 拆迁 电焊 放炮 采石 带泥 叮叮当当",
    "水电气暖": "停水 没水 停电 没电 断电 停气 没气 暖气 供暖 供热 暖气片 热力 自来水 水压 水管 管子 管道 爆管 崩了 "
    "变压器 电压 跳闸 水表 电表 燃气公司 自来水公司 供电 返水 浑浊 发黄 检修 来水",
    "火": "火 着火 着了 起火 失火 火灾 火苗 火势 火线 冒烟 黑烟 浓烟 烟 烧 烧起来 自燃 燃烧 火星 火光 灭火 消防 烧着",
    "燃气": "燃气 天然气 煤气 液化气 气罐 煤气罐 液化气罐 燃气管 阀门 总阀 燃气灶 燃气表 热水器 臭鸡蛋 漏气 窜气 "
    "冒气 调压箱 报警器 软管",
    "气味": "气味 味道 怪味 刺鼻 呛 呛人 熏 臭鸡蛋味 味很冲 味儿 闻",
    "危化": "化学 化学品 危化品 化工 化工厂 化工原料 农药 硫酸 盐酸 浓盐酸 氨 液氨 氨气 氯气 有毒 毒气 罐车 槽罐车 "
    "油罐车 储罐 储油罐 泄漏 渗 排污 偷排 废液 废水 黑水 变色 死鱼 翻白肚 电镀 试剂 消毒药剂 骷髅 易燃 铁桶",
    "灾害": "暴雨 大雨 下雨 雨 洪水 涨水 发大水 决口 决堤 堤 堤坝 漫堤 管涌 溢洪 水库 泄洪 淹 被淹 积水 内涝 泥石流 "
    "滑坡 山体 塌方 落石 滚 冰雹 暴雪 大风 龙卷风 雷击 雷 地震 渗水 转移",
    "坍塌": "塌 倒塌 坍塌 塌了 倒了 脚手架 塔吊 坠落 掉下来 高处 砸 压在 埋 厂房 危房 瓦房 楼板 顶板 吊顶 机器 卷进 "
    "冲床 行车 锅炉 爆炸 炸了 作业 安全事故 生产事故 窑 矿 清淤 沟壁",
    "隐患": "隐患 安全隐患 危险 随时 可能 快要 倾斜 歪 松动 锈 开裂 堵塞 安全通道 消防通道 安全出口 应急通道 私拉 "
    "拉线 充电 飞线 烟花爆竹 灭火器 消防设施 防护 警示 敞着 机井 囤 作坊 易燃物 掉 瓷砖",
    "受伤": "受伤 伤 血 流血 出血 骨折 擦破 肿 压住 被埋 困 昏迷 叫不醒 不动",
}

_WORD_TO_CONCEPTS: Final[dict[str, tuple[str, ...]]] = {}
for _concept, _words in CONCEPTS.items():
    for _word in _words.split():
        _WORD_TO_CONCEPTS[_word] = (*_WORD_TO_CONCEPTS.get(_word, ()), _concept)

_PATTERN: Final = re.compile("|".join(re.escape(w) for w in sorted(_WORD_TO_CONCEPTS, key=len, reverse=True)))


def concepts(normalised: str) -> Counter[str]:
    """Counts of concept features (``#name``) in a normalised text, one per word found."""
    found: Counter[str] = Counter()
    for match in _PATTERN.finditer(normalised):
        for concept in _WORD_TO_CONCEPTS[match.group(0)]:
            found["#" + concept] += 1
    return found


def words_of(normalised: str, concept: str) -> list[str]:
    """The words of ``concept`` found in a normalised text, in order, without repeats."""
    found: list[str] = []
    for match in _PATTERN.finditer(normalised):
        word = match.group(0)
        if concept in _WORD_TO_CONCEPTS[word] and word not in found:
            found.append(word)
    return found
