"""The deterministic demo district (星河商圈): malls, floor plans, shops, facilities and people.

Everything random comes from ``random.Random(seed)``: the same seed gives the same names,
geometry, phone numbers and usernames (database ids may differ). Zones are created only through
``floor_zones_import`` and shops through ``shop_create``, so the demo passes the same checks as
real data. Used by ``manage.py demo_district``, by the test suite (SMALL) and for screenshots.

Plan of an above-ground floor (metres, x to the east, y to the north; ``ud`` = unit depth,
``c`` = corridor width, ``E`` = width of the service cores at both ends)::

    y=D  +----+-------------- row 3: shop units --------------+----+
         |core|                                                |core|
         +E02-+============ north corridor (C02) ==============+E04-+
         |LF  | row 2 units |X| row 2 |ES|atrium|ES| row 2 |X| ...|SD  |
         |ST1 | row 1 units |X| row 1 |ES|      |ES| row 1 |X| ...|ST2 |
         +E01-+============ south corridor (C01) ==============+E03-+
         |WC1 |-------------- row 0: shop units ---------------|WC2 |
    y=0  +----+------------------------------------------------+----+

X are cross corridors (only on long floors), ES escalators beside the atrium, ST stairs,
LF lifts, SD the service desk (1F), WC restrooms, E evacuation exits.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from agora.accounts.actor import Actor
from agora.accounts.choices import Role
from agora.accounts.models import ApiKey, ApiToken, ConsentRecord, RoleGrant, SmsCode, User
from agora.accounts.services.staff import role_grant, staff_user_create
from agora.core.models import AuditLog, IdempotencyRecord
from agora.district.choices import FacilityKind, ShopCategory, ShopStatus, ZoneKind
from agora.district.models import (
    District,
    Facility,
    Floor,
    Mall,
    MerchantApplication,
    Shop,
    ShopUnit,
    Zone,
)
from agora.district.services.layout import floor_create, floor_zones_import
from agora.district.services.shops import facility_create, shop_create
from agora.lib.geometry import centroid, rectangle


@dataclass(frozen=True)
class DemoConfig:
    malls: int = 5
    floors: tuple[int, int] = (3, 6)  # inclusive range per mall
    units_per_floor: tuple[int, int] = (40, 120)  # shop units per floor, inclusive
    shoppers: int = 300
    occupancy: float = 0.85  # share of units let to shops


SMALL = DemoConfig(malls=2, floors=(2, 2), units_per_floor=(12, 16), shoppers=10)


@dataclass
class DemoLogin:
    role: str  # "platform_admin", "mall_operator", ..., or "shopper"
    login: str  # username, or phone for shoppers
    password: str | None  # None for shoppers (they sign in with an SMS code)
    note: str  # e.g. "operator of 万象城 (mall 1)"


@dataclass
class DemoResult:
    district_id: int
    malls: int
    floors: int
    zones: int
    shop_units: int
    shops: int
    facilities: int
    users: int
    logins: list[DemoLogin] = field(default_factory=list)


# Later modules add their demo data (members, points, coupons, ...) after the district is
# built: each registers a step in its AppConfig.ready(); build_demo runs them in order.
DemoStep = Callable[..., list[str]]
_demo_steps: dict[str, DemoStep] = {}
_demo_resets: dict[str, Callable[[], None]] = {}


def register_demo_step(
    name: str, step: DemoStep, *, reset: Callable[[], None] | None = None
) -> None:
    """``step(seed=, config=, district_id=, progress=)`` returns lines to print; ``reset()``
    deletes the step's rows before demo_reset deletes the district (newest step first)."""
    _demo_steps[name] = step
    if reset is not None:
        _demo_resets[name] = reset


DEMO_PASSWORD = "agora-demo-2026"  # noqa: S105 (published demo password)


class DemoExists(RuntimeError):
    """The database already holds a district (or demo usernames); reset it first."""


# --- fixed data ----------------------------------------------------------------------------

DISTRICT = {"name": "星河商圈", "code": "xinghe", "city": "深圳"}
MALLS: list[tuple[str, str, str]] = [
    ("万象城", "mixc", "深圳市福田区星河大道88号"),
    ("星河COCO Park", "coco-park", "深圳市福田区福华三路268号"),
    ("海岸城", "coastal-city", "深圳市福田区星河大道126号"),
    ("益田假日广场", "holiday-plaza", "深圳市福田区深南大道9028号"),
    ("卓悦中心", "one-avenue", "深圳市福田区中心四路1号"),
    ("来福士广场", "raffles-city", "深圳市福田区星河大道210号"),
    ("壹方城", "uniwalk", "深圳市福田区新湖路99号"),
    ("KK ONE", "kk-one", "深圳市福田区金田路2028号"),
    ("印力中心", "incity", "深圳市福田区星河大道302号"),
    ("天虹购物中心", "rainbow", "深圳市福田区福华一路6号"),
]
CENTRE = (22.5405, 114.0560)  # 福田 CBD
MALL_OPENS, MALL_CLOSES = time(10, 0), time(22, 0)
LATE_OPENS, LATE_CLOSES = time(9, 0), time(23, 0)
STARBUCKS = "星巴克"

# fmt: off
BRANDS: dict[str, list[str]] = {
    ShopCategory.FASHION: [
        "优衣库", "ZARA", "H&M", "GAP", "名创优品", "太平鸟", "森马", "海澜之家", "波司登",
        "MO&Co.", "江南布衣", "歌莉娅", "UR", "COS", "Massimo Dutti", "ONLY", "VERO MODA",
        "杰克琼斯", "Bershka", "以纯", "维多利亚的秘密", "百丽",
    ],
    ShopCategory.FOOD: [
        "喜茶", "奈雪的茶", "海底捞", "麦当劳", "肯德基", "必胜客", "瑞幸咖啡", "太二酸菜鱼",
        "西贝莜面村", "外婆家", "绿茶餐厅", "点都德", "鼎泰丰", "味千拉面", "真功夫",
        "满记甜品", "乐凯撒比萨", "和府捞面", "巴奴毛肚火锅", "鲜芋仙", "元气寿司", "汉堡王",
        "赛百味", "Manner咖啡", "蜜雪冰城", "费大厨辣椒炒肉",
    ],
    ShopCategory.CINEMA: [
        "万达影城", "CGV影城", "百老汇影城", "嘉禾影城", "中影国际影城", "UA电影城",
        "卢米埃影城", "博纳国际影城", "金逸影城", "星美国际影城",
    ],
    ShopCategory.SUPERMARKET: ["永辉超市", "盒马鲜生", "华润万家", "Ole'精品超市", "天虹超市"],
    ShopCategory.KIDS: [
        "孩子王", "玩具反斗城", "乐高授权专卖店", "巴拉巴拉", "安奈儿", "丽婴房", "泡泡玛特",
        "小猪班纳",
    ],
    ShopCategory.SERVICES: [
        "招商银行", "中国工商银行", "中国移动营业厅", "中国电信营业厅", "宝岛眼镜", "顺丰速运",
        "QB HOUSE快剪", "福奈特洗衣",
    ],
    ShopCategory.BEAUTY: [
        "屈臣氏", "丝芙兰", "完美日记", "花西子", "兰蔻", "雅诗兰黛", "欧舒丹", "悦诗风吟",
        "资生堂", "科颜氏", "薇诺娜", "植村秀",
    ],
    ShopCategory.ELECTRONICS: [
        "华为", "小米之家", "Apple授权专营店", "OPPO", "vivo", "荣耀", "大疆", "联想", "索尼",
        "苏宁易购",
    ],
    ShopCategory.SPORTS: [
        "安踏", "李宁", "耐克", "阿迪达斯", "特步", "361°", "FILA", "迪卡侬", "彪马", "匹克",
        "露露乐蒙", "始祖鸟",
    ],
    ShopCategory.JEWELLERY: [
        "周大福", "周生生", "六福珠宝", "老凤祥", "周大生", "谢瑞麟", "潘多拉", "施华洛世奇",
        "老庙黄金", "莱绅通灵",
    ],
}

_POETIC = [
    "青禾", "山岚", "知味", "半日", "一叶", "暖阳", "拾光", "云栖", "素然", "初语", "江南",
    "木棉", "白鹭", "山茶", "织梦", "简舍", "墨白", "沐风", "南风", "鹿岛", "小满", "听雨",
    "晴川", "悦己", "棠梨", "松间", "月白", "朝露", "星屿", "海棠", "禾木", "桃夭", "芝兰",
    "清欢", "浮白", "野梨", "晚枫", "知秋", "闲庭", "若水",
]
_LOCAL = [
    "老王", "陈记", "阿强", "潮汕", "客家", "湘味", "川府", "粤海", "港式", "老街", "巷口",
    "南山", "海月", "渔家", "福满", "李记", "黄记", "阿婆", "顺德", "东门", "蛇口", "大鹏",
    "沙井", "老广", "鹏城",
]
GENERATED: dict[str, list[tuple[list[str], list[str]]]] = {
    ShopCategory.FASHION: [
        (_POETIC, ["服饰", "女装", "男装", "衣橱", "买手店", "鞋履", "包袋", "设计师店", "内衣"])
    ],
    ShopCategory.FOOD: [
        (
            _LOCAL,
            ["烧腊", "肠粉", "牛肉火锅", "粥铺", "茶餐厅", "小馆", "面馆", "烧烤", "煲仔饭",
             "冰室", "糖水铺", "饺子馆", "酸菜鱼", "麻辣烫", "椰子鸡"],
        ),
        (_POETIC, ["茶舍", "咖啡", "茶饮", "烘焙坊", "面包房", "甜品", "轻食"]),
    ],
    ShopCategory.SUPERMARKET: [
        (["鲜丰", "惠家", "邻里", "星河", "鹏城", "佳宜", "乐购", "优品"], ["超市", "生鲜超市"])
    ],
    ShopCategory.CINEMA: [(["星河", "鹏城", "光影", "银河", "时代"], ["影城", "国际影城"])],
    ShopCategory.KIDS: [
        (
            ["童趣", "小星星", "乐宝", "萌宝", "小飞象", "彩虹", "向日葵", "小熊", "跳跳糖",
             "小海豚", "叮当", "七彩"],
            ["童装", "玩具", "乐园", "绘本馆", "早教中心", "儿童摄影", "美术馆"],
        )
    ],
    ShopCategory.SERVICES: [
        (
            ["便民", "快修", "安心", "诚信", "顺达", "鹏城", "速捷", "星河", "邻里", "好帮手"],
            ["洗衣", "配钥匙", "手机维修", "眼镜", "照相馆", "修鞋", "裁缝铺", "打印社",
             "药房", "按摩"],
        )
    ],
    ShopCategory.BEAUTY: [(_POETIC, ["美妆", "美甲", "美发沙龙", "护肤", "香氛", "美睫"])],
    ShopCategory.ELECTRONICS: [
        (
            ["数码", "极客", "鹏城", "智选", "星河", "e家", "科创", "酷玩", "未来"],
            ["数码港", "手机店", "电脑", "影音", "智能家居", "数码配件"],
        )
    ],
    ShopCategory.SPORTS: [
        (
            ["健步", "跃动", "山野", "疾风", "鹏城", "冲浪", "骑行", "动感", "极限", "蓝海"],
            ["运动", "户外", "体育用品", "骑行馆", "跑步装备", "瑜伽馆", "球具"],
        )
    ],
    ShopCategory.JEWELLERY: [
        (
            ["金福", "宝华", "瑞丰", "恒信", "珍珑", "金缘", "玉满堂", "福瑞", "金辉", "翠华"],
            ["珠宝", "金行", "银饰", "翡翠", "钟表"],
        )
    ],
}
BLURBS: dict[str, str] = {
    ShopCategory.FASHION: "服饰鞋包，当季新品",
    ShopCategory.FOOD: "餐饮美食，堂食外带",
    ShopCategory.CINEMA: "影院，IMAX 与杜比厅",
    ShopCategory.SUPERMARKET: "超市，生鲜日用一站购齐",
    ShopCategory.KIDS: "亲子儿童",
    ShopCategory.SERVICES: "生活服务",
    ShopCategory.BEAUTY: "美妆个护",
    ShopCategory.ELECTRONICS: "数码电器，体验与售后",
    ShopCategory.SPORTS: "运动户外",
    ShopCategory.JEWELLERY: "珠宝黄金",
}
# category weights for one-unit and two-unit shops (cinema is placed explicitly)
SINGLE_WEIGHTS: dict[str, int] = {
    ShopCategory.FASHION: 28,
    ShopCategory.FOOD: 30,
    ShopCategory.BEAUTY: 8,
    ShopCategory.KIDS: 6,
    ShopCategory.SERVICES: 8,
    ShopCategory.ELECTRONICS: 6,
    ShopCategory.SPORTS: 6,
    ShopCategory.JEWELLERY: 6,
    ShopCategory.SUPERMARKET: 1,
}
DOUBLE_WEIGHTS: dict[str, int] = {
    ShopCategory.FASHION: 3,
    ShopCategory.FOOD: 3,
    ShopCategory.SPORTS: 2,
    ShopCategory.KIDS: 2,
    ShopCategory.ELECTRONICS: 1,
    ShopCategory.SUPERMARKET: 2,
}

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛"
)
GIVEN_NAMES = [
    "伟", "娜", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "华", "建华", "文", "晓明", "丽娟", "海燕",
    "欣怡", "子涵", "浩然", "梓轩", "思远", "雨桐", "宇航", "嘉怡", "俊杰", "婷婷", "志强",
    "晨曦", "佳琪", "一鸣", "诗涵", "博文", "雅琴",
]
# fmt: on

# floor-plan constants (metres)
CORE_W = 12.0  # service core at each end of a floor
EXIT_W = 2.0  # evacuation exit in the outer wall at a corridor's end
ESCALATOR_STRIP = 4.0  # strip beside the atrium holding one escalator
ATRIUM_W = 16.0
STAIRS_H = 6.0
LIFT_H = 4.0
DESK_H = 8.0
CROSS_CORRIDOR_MIN_RUN = 90.0  # floors whose shop run is longer get two cross corridors


# --- floor plans (pure: only the rng) --------------------------------------------------------

FacilityPlan = tuple[str, str, float, float, str | None]  # kind, name, x, y, zone code


@dataclass
class _Unit:
    code: str
    ring: list[list[float]]
    row: int  # 0 and 3 along the outer walls, 1 and 2 back to back between the corridors
    segment: int  # the run of units it belongs to; neighbours in a run share an edge


@dataclass
class _FloorPlan:
    level: int
    name: str
    outline: list[list[float]]
    zones: list[dict[str, Any]]
    units: list[_Unit]
    facilities: list[FacilityPlan]


@dataclass
class _MallGeometry:
    """One footprint per mall, so that floors stack and the cores line up."""

    width: float
    depth: float
    unit_depth: float
    corridor: float
    cross_x: list[float]  # west edges of the cross corridors
    atrium_x: float  # west edge of the cut: escalator strip, atrium, escalator strip
    segments: list[tuple[int, float, float]]  # (row, x0, x1) of each run of shop units

    def row_y(self, row: int) -> float:
        ud, c = self.unit_depth, self.corridor
        return [0.0, ud + c, 2 * ud + c, 3 * ud + 2 * c][row]

    @property
    def band(self) -> tuple[float, float]:
        """The y range between the two long corridors."""
        ud, c = self.unit_depth, self.corridor
        return ud + c, 3 * ud + c


def _r(v: float) -> float:
    return round(v, 2)


def _mall_geometry(rng: random.Random, max_units: int) -> _MallGeometry:
    """Sized so that the floor with the most units averages 7–9 m of frontage a unit."""
    ud = float(rng.choice([10, 12, 14]))
    c = float(rng.choice([5, 6]))
    avg = rng.uniform(7.0, 9.0)
    cut = 2 * ESCALATOR_STRIP + ATRIUM_W
    frontage = avg * max_units  # over four rows: two outer (run) and two central (run - cuts)
    run = (frontage + 2 * cut) / 4
    crossings = 0
    if run > CROSS_CORRIDOR_MIN_RUN:
        crossings = 2
        run = (frontage + 2 * (cut + crossings * c)) / 4
    run = float(math.ceil(run))
    width = run + 2 * CORE_W
    depth = 4 * ud + 2 * c
    atrium_x = _r(width / 2 - cut / 2)
    cross_x: list[float] = []
    if crossings:
        cross_x = [
            _r((CORE_W + atrium_x) / 2 - c / 2),
            _r((atrium_x + cut + width - CORE_W) / 2 - c / 2),
        ]
    west, east = CORE_W, width - CORE_W
    cuts = sorted([(x, _r(x + c)) for x in cross_x] + [(atrium_x, _r(atrium_x + cut))])
    segments: list[tuple[int, float, float]] = [(0, west, east)]
    for row in (1, 2):
        x = west
        for a, b in cuts:
            segments.append((row, x, a))
            x = b
        segments.append((row, x, east))
    segments.append((3, west, east))
    return _MallGeometry(width, depth, ud, c, cross_x, atrium_x, segments)


def _split(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder apportionment of ``total`` by ``weights``."""
    s = sum(weights)
    quotas = [total * w / s for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _prefix(level: int) -> str:
    return f"B{-level}" if level < 0 else f"L{level}"


def _floor_name(level: int) -> str:
    return f"B{-level}" if level < 0 else f"{level}F"


def _zone(kind: str, name: str, code: str, ring: list[list[float]]) -> dict[str, Any]:
    return {"kind": kind, "name": name, "code": code, "polygon": ring}


def _core_zones(g: _MallGeometry, p: str) -> list[dict[str, Any]]:
    """Stairs, lifts and evacuation exits: in the same place on every floor of a mall."""
    ud, c, w = g.unit_depth, g.corridor, g.width
    y0, _ = g.band
    south, north = ud, 3 * ud + c
    half = CORE_W / 2
    return [
        _zone(ZoneKind.STAIRS, "西侧楼梯", f"{p}-ST1", rectangle(0, y0, CORE_W, STAIRS_H)),
        _zone(ZoneKind.STAIRS, "东侧楼梯", f"{p}-ST2", rectangle(w - CORE_W, y0, CORE_W, STAIRS_H)),
        _zone(ZoneKind.LIFT, "客梯 1", f"{p}-LF1", rectangle(0, y0 + 7, half, LIFT_H)),
        _zone(ZoneKind.LIFT, "客梯 2", f"{p}-LF2", rectangle(half, y0 + 7, half, LIFT_H)),
        _zone(ZoneKind.EVACUATION_EXIT, "西南安全出口", f"{p}-E01", rectangle(0, south, EXIT_W, c)),
        _zone(ZoneKind.EVACUATION_EXIT, "西北安全出口", f"{p}-E02", rectangle(0, north, EXIT_W, c)),
        _zone(
            ZoneKind.EVACUATION_EXIT,
            "东南安全出口",
            f"{p}-E03",
            rectangle(w - EXIT_W, south, EXIT_W, c),
        ),
        _zone(
            ZoneKind.EVACUATION_EXIT,
            "东北安全出口",
            f"{p}-E04",
            rectangle(w - EXIT_W, north, EXIT_W, c),
        ),
    ]


ZONE_FACILITY = {
    ZoneKind.LIFT: FacilityKind.LIFT,
    ZoneKind.EVACUATION_EXIT: FacilityKind.EVACUATION_EXIT,
    ZoneKind.RESTROOM: FacilityKind.RESTROOM,
    ZoneKind.SERVICE_DESK: FacilityKind.SERVICE_DESK,
}


def _zone_facilities(zones: list[dict[str, Any]]) -> list[FacilityPlan]:
    """A facility at the centroid of every lift, exit, restroom and service-desk zone."""
    out: list[FacilityPlan] = []
    for z in zones:
        if z["kind"] in ZONE_FACILITY:
            x, y = centroid(z["polygon"])
            out.append((ZONE_FACILITY[z["kind"]], z["name"], x, y, z["code"]))
    return out


def _basement_plan(rng: random.Random, g: _MallGeometry, level: int) -> _FloorPlan:
    p, name = _prefix(level), _floor_name(level)
    w, d = g.width, g.depth
    park = _zone(
        ZoneKind.CAR_PARK, f"{name} 停车场", f"{p}-P01", rectangle(CORE_W, 0, w - 2 * CORE_W, d)
    )
    zones = [park, *_core_zones(g, p)]
    facilities = _zone_facilities(zones)
    per_wall = int((w - 2 * CORE_W - 4) // 6) + 1  # along the south and the north wall
    for i in range(min(rng.randint(6, 12), 2 * per_wall)):
        x, y = _r(CORE_W + 4 + 6 * (i // 2)), (2.0 if i % 2 == 0 else _r(d - 2))
        facilities.append((FacilityKind.EV_CHARGER, f"充电桩 {i + 1:02d}", x, y, park["code"]))
    lobby_y = _r(g.band[0] + 7 + LIFT_H / 2)
    facilities.append((FacilityKind.AED, "AED（电梯厅）", _r(CORE_W + 1), lobby_y, park["code"]))
    return _FloorPlan(level, name, rectangle(0, 0, w, d), zones, [], facilities)


def _floor_plan(
    rng: random.Random, g: _MallGeometry, *, level: int, units: int, restrooms: int, nursing: bool
) -> _FloorPlan:
    p, name = _prefix(level), _floor_name(level)
    ud, c, w, d = g.unit_depth, g.corridor, g.width, g.depth
    y0, y1 = g.band

    # shop units: apportion the count over the runs by length, then split each run unevenly
    counts = _split(units, [x1 - x0 for _, x0, x1 in g.segments])
    plan_units: list[_Unit] = []
    for seg, ((row, x0, x1), n) in enumerate(zip(g.segments, counts, strict=True)):
        if n == 0:
            continue
        weights = [rng.uniform(0.7, 1.3) for _ in range(n)]
        total = sum(weights)
        edges, acc = [x0], 0.0
        for wt in weights[:-1]:
            acc += wt
            edges.append(_r(x0 + (x1 - x0) * acc / total))
        edges.append(x1)
        for a, b in itertools.pairwise(edges):
            code = f"{p}-{len(plan_units) + 1:03d}"
            plan_units.append(_Unit(code, rectangle(a, g.row_y(row), b - a, ud), row, seg))
    zones = [_zone(ZoneKind.SHOP_UNIT, f"铺位 {u.code}", u.code, u.ring) for u in plan_units]

    # circulation: two long corridors, cross corridors, the atrium between two escalators
    zones.append(
        _zone(ZoneKind.CORRIDOR, "南走廊", f"{p}-C01", rectangle(EXIT_W, ud, w - 2 * EXIT_W, c))
    )
    zones.append(
        _zone(
            ZoneKind.CORRIDOR,
            "北走廊",
            f"{p}-C02",
            rectangle(EXIT_W, 3 * ud + c, w - 2 * EXIT_W, c),
        )
    )
    for i, x in enumerate(g.cross_x):
        zones.append(
            _zone(
                ZoneKind.CORRIDOR,
                f"横向通道 {i + 1}",
                f"{p}-C{i + 3:02d}",
                rectangle(x, y0, c, y1 - y0),
            )
        )
    ax = g.atrium_x
    zones.append(
        _zone(
            ZoneKind.ATRIUM,
            "中庭",
            f"{p}-A01",
            rectangle(ax + ESCALATOR_STRIP, y0, ATRIUM_W, y1 - y0),
        )
    )
    mid = (y0 + y1) / 2
    for i, (x, way) in enumerate(
        [(ax + 0.5, "上行"), (ax + ESCALATOR_STRIP + ATRIUM_W + 0.5, "下行")]
    ):
        zones.append(
            _zone(
                ZoneKind.ESCALATOR,
                f"扶梯（{way}）",
                f"{p}-ES{i + 1}",
                rectangle(x, mid - 6, ESCALATOR_STRIP - 1, 12),
            )
        )

    # services in the end cores
    zones.append(_zone(ZoneKind.RESTROOM, "卫生间（西）", f"{p}-WC1", rectangle(0, 0, CORE_W, ud)))
    if restrooms > 1:
        zones.append(
            _zone(
                ZoneKind.RESTROOM, "卫生间（东）", f"{p}-WC2", rectangle(w - CORE_W, 0, CORE_W, ud)
            )
        )
    if level == 1:
        desk = rectangle(w - CORE_W, y0 + STAIRS_H + 2, CORE_W, DESK_H)
        zones.append(_zone(ZoneKind.SERVICE_DESK, "服务台", f"{p}-SD1", desk))
    zones.extend(_core_zones(g, p))

    facilities = _zone_facilities(zones)
    south_y, north_y = _r(ud + c / 2), _r(3 * ud + c + c / 2)
    facilities.append((FacilityKind.INFO_KIOSK, "导视屏", _r(w / 2), south_y, f"{p}-C01"))
    facilities.append((FacilityKind.AED, "AED", _r(CORE_W + 2), north_y, f"{p}-C02"))
    if level == 1:
        facilities.append(
            (FacilityKind.ATM, "ATM 自助银行", _r(w - CORE_W - 2), south_y, f"{p}-C01")
        )
    if nursing:  # a room in the north-west core, which has no zone kind of its own
        x, y = centroid(rectangle(0, 3 * ud + 2 * c, CORE_W, ud))
        facilities.append((FacilityKind.NURSING_ROOM, "母婴室", x, y, None))
    return _FloorPlan(level, name, rectangle(0, 0, w, d), zones, plan_units, facilities)


# --- shops (pure: only the rng) ---------------------------------------------------------------


@dataclass
class _ShopPlan:
    level: int
    unit_codes: list[str]
    name: str
    brand: str
    category: str
    status: str
    opens_at: time
    closes_at: time
    phone: str
    contact_name: str
    description: str


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _landline(rng: random.Random) -> str:
    return f"0755-8{rng.randrange(10**7):07d}"


class _Namer:
    """Shop names within one mall: a real brand at most once, generated names never twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = {STARBUCKS}

    def _take(self, name: str) -> str:
        self.used.add(name)
        return name

    def name(self, category: str, *, brand_share: float = 0.55) -> tuple[str, str]:
        """(name, brand); brand is empty for a local shop."""
        rng = self.rng
        free = [b for b in BRANDS[category] if b not in self.used]
        if free and rng.random() < brand_share:
            brand = self._take(rng.choice(free))
            return brand, brand
        candidate = ""
        for _ in range(30):
            prefixes, suffixes = rng.choice(GENERATED[category])
            candidate = rng.choice(prefixes) + rng.choice(suffixes)
            if candidate not in self.used:
                return self._take(candidate), ""
        if free:
            brand = self._take(free[0])
            return brand, brand
        n = 2
        while f"{candidate}{n}号店" in self.used:
            n += 1
        return self._take(f"{candidate}{n}号店"), ""


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _shop_plans(
    rng: random.Random,
    *,
    mall_name: str,
    floors: list[_FloorPlan],
    occupancy: float,
    starbucks_contact: str,
) -> list[_ShopPlan]:
    """Who rents which units: 星巴克 on 1F, the cinema (two units) on the top floor, about
    ``occupancy`` of the units let, about one shop in ten over two adjacent units."""
    namer = _Namer(rng)
    above = [fp for fp in floors if fp.level > 0]
    top = max(fp.level for fp in above)
    has_supermarket = False
    out: list[_ShopPlan] = []

    def add(fp: _FloorPlan, codes: list[str], name: str, brand: str, category: str) -> None:
        special = name == STARBUCKS or category == ShopCategory.CINEMA
        hours = (MALL_OPENS, MALL_CLOSES)
        if category == ShopCategory.FOOD and not special and rng.random() < 0.3:
            hours = (LATE_OPENS, LATE_CLOSES)
        status = ShopStatus.OPEN
        if not special and rng.random() < 0.04:
            status = ShopStatus.FITTING_OUT
        out.append(
            _ShopPlan(
                level=fp.level,
                unit_codes=codes,
                name=name,
                brand=brand,
                category=category,
                status=status,
                opens_at=hours[0],
                closes_at=hours[1],
                phone=_landline(rng),
                contact_name=starbucks_contact if name == STARBUCKS else _person(rng),
                description=f"{BLURBS[category]}。位于{mall_name} {fp.name} {'、'.join(codes)}。",
            )
        )

    for fp in above:
        units = fp.units
        reserved: dict[str, str] = {}  # unit code -> "starbucks" | "cinema"
        if fp.level == 1:
            on_south_corridor = [u for u in units if u.row in (0, 1)] or units
            reserved[rng.choice(on_south_corridor).code] = "starbucks"
        if fp.level == top:
            pairs = [
                (a, b)
                for a, b in itertools.pairwise(units)
                if a.segment == b.segment and a.code not in reserved and b.code not in reserved
            ]
            pairs = [pr for pr in pairs if pr[0].row == 3] or pairs
            if pairs:
                a, b = rng.choice(pairs)
                reserved[a.code] = reserved[b.code] = "cinema"
            else:
                free = [u for u in units if u.code not in reserved]
                reserved[free[0].code] = "cinema"
        others = [u.code for u in units if u.code not in reserved]
        vacant = set(rng.sample(others, min(len(others), round(len(units) * (1 - occupancy)))))

        i = 0
        while i < len(units):
            u = units[i]
            role = reserved.get(u.code)
            if role == "starbucks":
                add(fp, [u.code], STARBUCKS, STARBUCKS, ShopCategory.FOOD)
                i += 1
                continue
            if role == "cinema":
                codes = [x.code for x in units[i : i + 2] if reserved.get(x.code) == "cinema"]
                name, brand = namer.name(ShopCategory.CINEMA, brand_share=0.9)
                add(fp, codes, name, brand, ShopCategory.CINEMA)
                i += len(codes)
                continue
            if u.code in vacant:
                i += 1
                continue
            nxt = units[i + 1] if i + 1 < len(units) else None
            double = (
                nxt is not None
                and nxt.segment == u.segment
                and nxt.code not in vacant
                and nxt.code not in reserved
                and rng.random() < 0.12
            )
            weights = dict(DOUBLE_WEIGHTS if double else SINGLE_WEIGHTS)
            if has_supermarket:
                weights.pop(ShopCategory.SUPERMARKET)
            category = _pick(rng, weights)
            has_supermarket = has_supermarket or category == ShopCategory.SUPERMARKET
            name, brand = namer.name(category)
            codes = [u.code, nxt.code] if double and nxt is not None else [u.code]
            add(fp, codes, name, brand, category)
            i += len(codes)
    return out


# --- people (pure: only the rng) --------------------------------------------------------------


def _shopper_phones(rng: random.Random, n: int) -> list[str]:
    """``13800000001`` first, then distinct random 138 numbers."""
    if n <= 0:
        return []
    rest = rng.sample(range(2, 10**8), n - 1)
    return ["13800000001", *(f"138{x:08d}" for x in rest)]


def _staff_usernames(malls: int) -> list[str]:
    names = ["admin", "district-ops", "gov"]
    for i in range(1, malls + 1):
        names += [
            f"mall-ops-{i}",
            f"shop-owner-{i}",
            f"shop-manager-{i}",
            f"shop-cashier-{i}",
            f"shop-owner-{i}b",
        ]
    return names


# --- building ---------------------------------------------------------------------------------


def _validate(config: DemoConfig) -> None:
    problems = []
    if not 1 <= config.malls <= len(MALLS):
        problems.append(f"malls must be between 1 and {len(MALLS)}")
    lo, hi = config.floors
    if not 1 <= lo <= hi:
        problems.append("floors must be a range (lo, hi) with 1 <= lo <= hi")
    lo, hi = config.units_per_floor
    if not 4 <= lo <= hi:
        problems.append("units_per_floor must be a range (lo, hi) with 4 <= lo <= hi")
    if not 0 <= config.occupancy <= 1:
        problems.append("occupancy must be between 0 and 1")
    if config.shoppers < 0:
        problems.append("shoppers must not be negative")
    if problems:
        raise ValueError("invalid DemoConfig: " + "; ".join(problems))


def _refuse_if_taken(staff: list[str], phones: list[str]) -> None:
    district = District.objects.order_by("id").first()
    if district is not None:
        raise DemoExists(
            f"a district already exists ({district.name}, code {district.code!r}); "
            "run `manage.py demo_district --reset` to delete all district and account data first"
        )
    taken = [u.username for u in User.objects.filter(username__in=staff)[:5]]
    for start in range(0, len(phones), 500):  # in chunks: SQLite limits query parameters
        taken += [
            u.phone or "" for u in User.objects.filter(phone__in=phones[start : start + 500])[:5]
        ]
    if taken:
        raise DemoExists(
            f"demo accounts already exist ({', '.join(taken)}); "
            "run `manage.py demo_district --reset` to delete all district and account data first"
        )


def build_demo(
    *,
    seed: int = 42,
    config: DemoConfig = DemoConfig(),
    password: str = DEMO_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo district into an empty database (raises DemoExists otherwise)."""
    _validate(config)
    say = progress or (lambda _line: None)
    rng = random.Random(seed)
    # one stream per purpose, drawn in a fixed order: mall i is the same whatever config.malls
    people_rng = random.Random(rng.getrandbits(64))
    shopper_rng = random.Random(rng.getrandbits(64))
    mall_rngs = [random.Random(rng.getrandbits(64)) for _ in range(len(MALLS))][: config.malls]

    phones = _shopper_phones(shopper_rng, config.shoppers)
    _refuse_if_taken(_staff_usernames(config.malls), phones)
    # one hash for every staff account: the demo's password is public, and hashing it ~40 times
    # would dominate the build time
    encoded = make_password(password or None)

    def staff(username: str, display_name: str) -> User:
        user = staff_user_create(username=username, password=None, display_name=display_name)
        user.password = encoded
        user.save(update_fields=["password"])
        return user

    logins: list[DemoLogin] = []
    with transaction.atomic():
        admin = staff("admin", "平台管理员")
        role_grant(user=admin, role=Role.PLATFORM_ADMIN)
        system = Actor(user=admin, is_admin=True)
        district = District.objects.create(**DISTRICT)
        ops = staff("district-ops", f"{_person(people_rng)}（商圈运营）")
        role_grant(user=ops, role=Role.DISTRICT_OPERATOR, district_id=district.pk)
        gov = staff("gov", f"{_person(people_rng)}（商务局）")
        role_grant(user=gov, role=Role.GOVERNMENT_OFFICER, district_id=district.pk)
        logins += [
            DemoLogin(Role.PLATFORM_ADMIN.value, "admin", password, "platform admin, also /admin/"),
            DemoLogin(
                Role.DISTRICT_OPERATOR.value,
                "district-ops",
                password,
                f"operator of {district.name} (all {config.malls} malls)",
            ),
        ]
        gov_login = DemoLogin(
            Role.GOVERNMENT_OFFICER.value,
            "gov",
            password,
            f"government officer for {district.name}",
        )

        for index, mrng in enumerate(mall_rngs, start=1):
            with transaction.atomic():
                built = _build_mall(
                    mrng, index=index, district=district, system=system, config=config
                )
                mall, starbucks, other, people = built
                m_ops = staff(f"mall-ops-{index}", f"{people[0]}（{mall.name}运营）")
                role_grant(user=m_ops, role=Role.MALL_OPERATOR, mall_id=mall.pk)
                merchants = [
                    (f"shop-owner-{index}", people[1], Role.MERCHANT_OWNER, starbucks),
                    (f"shop-manager-{index}", people[2], Role.MERCHANT_MANAGER, starbucks),
                    (f"shop-cashier-{index}", people[3], Role.MERCHANT_CASHIER, starbucks),
                    (f"shop-owner-{index}b", people[4], Role.MERCHANT_OWNER, other),
                ]
                for username, person, role, shop in merchants:
                    user = staff(username, person)
                    role_grant(user=user, role=role, shop_id=shop.pk)
                if index == 1:
                    logins.append(
                        DemoLogin(
                            Role.MALL_OPERATOR.value,
                            m_ops.username,
                            password,
                            f"operator of {mall.name} (mall 1)",
                        )
                    )
                    logins.append(gov_login)
                    for username, _person_name, role, shop in merchants[:3]:
                        job = role.value.removeprefix("merchant_")
                        logins.append(
                            DemoLogin(
                                role.value,
                                username,
                                password,
                                f"{job} of {shop.name} on 1F of {mall.name} (mall 1)",
                            )
                        )
            floors = Floor.objects.filter(mall=mall)
            say(
                f"mall {index}/{config.malls} {mall.name}: {floors.count()} floors, "
                f"{Zone.objects.filter(floor__mall=mall, kind=ZoneKind.SHOP_UNIT).count()} units, "
                f"{Shop.objects.filter(mall=mall).count()} shops"
            )
        if not mall_rngs:
            logins.append(gov_login)

        shoppers = []
        for phone in phones:
            user = User(username=f"p{phone}", phone=phone, display_name=_person(shopper_rng))
            user.set_unusable_password()
            shoppers.append(user)
        User.objects.bulk_create(shoppers, batch_size=500)
        for user in shoppers[:2]:
            logins.append(
                DemoLogin(
                    "shopper",
                    user.phone or "",
                    None,
                    f"shopper {user.display_name}, signs in with an SMS code",
                )
            )
        say(f"accounts: {len(_staff_usernames(config.malls))} staff, {len(shoppers)} shoppers")

    for step in _demo_steps.values():
        with transaction.atomic():
            step(seed=seed, config=config, district_id=district.pk, progress=say)

    zones = Zone.objects.filter(floor__mall__district=district)
    return DemoResult(
        district_id=district.pk,
        malls=Mall.objects.filter(district=district).count(),
        floors=Floor.objects.filter(mall__district=district).count(),
        zones=zones.count(),
        shop_units=zones.filter(kind=ZoneKind.SHOP_UNIT).count(),
        shops=Shop.objects.filter(mall__district=district).count(),
        facilities=Facility.objects.filter(floor__mall__district=district).count(),
        users=User.objects.count(),
        logins=logins,
    )


def _build_mall(
    rng: random.Random, *, index: int, district: District, system: Actor, config: DemoConfig
) -> tuple[Mall, Shop, Shop, list[str]]:
    """One mall with its floors, zones, facilities and shops; returns (mall, 星巴克, another
    shop on 1F for the ``shop-owner-<i>b`` colleague, names of its five staff people)."""
    name, code, address = MALLS[index - 1]
    n_floors = rng.randint(*config.floors)
    basement = index % 2 == 1 and n_floors >= 2
    above = n_floors - int(basement)
    units = {level: rng.randint(*config.units_per_floor) for level in range(1, above + 1)}
    g = _mall_geometry(rng, max(units.values()))
    nursing_level = 2 if above >= 2 else 1
    plans = [_basement_plan(rng, g, -1)] if basement else []
    for level in range(1, above + 1):
        plans.append(
            _floor_plan(
                rng,
                g,
                level=level,
                units=units[level],
                restrooms=rng.choice([1, 2]),
                nursing=level == nursing_level,
            )
        )
    lat = CENTRE[0] + rng.uniform(-0.008, 0.008)
    lon = CENTRE[1] + rng.uniform(-0.008, 0.008)
    mall = Mall.objects.create(
        district=district,
        name=name,
        code=code,
        address=address,
        latitude=Decimal(f"{lat:.6f}"),
        longitude=Decimal(f"{lon:.6f}"),
        opens_at=MALL_OPENS,
        closes_at=MALL_CLOSES,
        phone=_landline(rng),
    )
    zone_ids: dict[int, dict[str, int]] = {}
    for fp in plans:
        floor = floor_create(
            actor=system, mall=mall, level=fp.level, name=fp.name, outline=fp.outline
        )
        floor_zones_import(floor=floor, zones=fp.zones)
        ids = dict(Zone.objects.filter(floor=floor).values_list("code", "id"))
        zone_ids[fp.level] = ids
        for kind, f_name, x, y, zone_code in fp.facilities:
            facility_create(
                actor=system,
                floor=floor,
                kind=kind,
                name=f_name,
                x=x,
                y=y,
                zone_id=ids[zone_code] if zone_code else None,
            )

    # operator, 星巴克's owner, manager and cashier, the neighbour's owner
    people = [_person(rng) for _ in range(5)]
    shop_plans = _shop_plans(
        rng, mall_name=name, floors=plans, occupancy=config.occupancy, starbucks_contact=people[1]
    )
    starbucks: Shop | None = None
    other: Shop | None = None
    for sp in shop_plans:
        shop = shop_create(
            actor=system,
            mall=mall,
            name=sp.name,
            category=sp.category,
            unit_ids=[zone_ids[sp.level][c] for c in sp.unit_codes],
            opens_at=sp.opens_at,
            closes_at=sp.closes_at,
            brand=sp.brand,
            phone=sp.phone,
            contact_name=sp.contact_name,
            description=sp.description,
            status=sp.status,
            audit=False,
        )
        if sp.name == STARBUCKS:
            starbucks = shop
        elif (
            other is None
            and sp.level == 1
            and sp.status == ShopStatus.OPEN
            and sp.category != ShopCategory.CINEMA
        ):
            other = shop
    if other is None:  # a tiny 1F: take any other shop
        other = Shop.objects.filter(mall=mall).exclude(name=STARBUCKS).order_by("id").first()
    if starbucks is None or other is None:
        raise RuntimeError(f"demo mall {name} got no 星巴克 or no second shop; raise occupancy")
    return mall, starbucks, other, people


def demo_reset() -> None:
    """Delete every district and account row (and the audit log and idempotency records that
    point at them), children before parents, so that ``build_demo`` can run again."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.sessions.models import Session

    with transaction.atomic():
        for reset in reversed(list(_demo_resets.values())):
            reset()
        for model in (
            AuditLog,
            IdempotencyRecord,
            MerchantApplication,
            ApiKey,
            RoleGrant,
            ApiToken,
            SmsCode,
            ConsentRecord,
            ShopUnit,
            Facility,
            Shop,
            Zone,
            Floor,
            Mall,
            District,
            LogEntry,
            Session,
            User,
        ):
            model._default_manager.all().delete()


def demo_logins(*, password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """The demo's sign-ins as they stand in the database (for `demo_district --if-empty`)."""
    from agora.accounts.selectors import actor_for_user

    out: list[DemoLogin] = []
    names = [
        "admin",
        "district-ops",
        "mall-ops-1",
        "gov",
        "shop-owner-1",
        "shop-manager-1",
        "shop-cashier-1",
    ]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    for name in names:
        if name in users:
            roles = actor_for_user(users[name]).roles()
            out.append(DemoLogin(roles[0] if roles else "staff", name, password, ""))
    for user in User.objects.filter(phone__startswith="138", is_active=True).order_by("phone")[:2]:
        out.append(
            DemoLogin("shopper", user.phone or "", None, "sign in at /login/ with the SMS code")
        )
    return out
