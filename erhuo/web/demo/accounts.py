"""Demo people: the owner, one operator per station, a seller, an expert, a
demo member with two addresses, and a few hundred ordinary members.

The seller and the expert get their roles later, the way everyone does:
through seller verification (trust.py) and an expert application
(experts.py).

The named accounts go through the account services one by one. The bulk
members are built with the model and inserted with `bulk_create`, sharing one
password hash: hashing hundreds of passwords would take minutes. They get
everything the sign-up service would give them (phone digest, the member
role and its RoleChange record) except the `user_signed_up` event: later demo
modules seed what follows sign-up (group placement, tags) themselves.
Their addresses go through `address_create`.
"""

import random
from datetime import timedelta
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from erhuo.accounts import roles, services
from erhuo.accounts.models import RoleChange, User

DEMO_PASSWORD = "erhuo2026"
RANDOM_SEED = 20260101
MEMBER_COUNT = 320  # ordinary members besides the named accounts
LAUNCH_DAYS_AGO = 90  # the community opened about three months ago
NOTE = "demo seed"

OWNER_USERNAME = "owner"
SELLER_USERNAME = "seller"
EXPERT_USERNAME = "expert"
MEMBER_USERNAME = "member"


class DemoLogin(NamedTuple):
    role: str
    username: str
    phone: str
    password: str


class NamedAccount(NamedTuple):
    username: str
    phone: str
    display_name: str
    role_label: str
    roles: tuple[str, ...]
    city: str
    bio: str
    joined_days_ago: int


# In creation order: the owner grants the station roles. The seller and the
# expert start as members like everyone else: the seller role comes with an
# approved seller verification (trust.py) and the expert role with an
# approved expert application (experts.py).
NAMED_ACCOUNTS: tuple[NamedAccount, ...] = (
    NamedAccount(
        OWNER_USERNAME,
        "13900000001",
        "主理人苏苏",
        "主理人",
        (roles.OWNER,),
        "上海",
        "前模特，两个孩子的妈妈。从一个 500 人的闲置群做起，想让姐妹们的好东西都能遇到对的人。",
        98,
    ),
    NamedAccount(
        "yunying",
        "13900000002",
        "运营·小周",
        "社群运营",
        (roles.COMMUNITY_MANAGER,),
        "上海",
        "负责社群分群、微课和活动，有事群里 @ 我。",
        96,
    ),
    NamedAccount("ruku", "13900000003", "入库·阿芳", "入库员", (roles.INTAKE_CLERK,), "上海", "收货、验货、贴码。", 95),
    NamedAccount(
        "jianding",
        "13900000004",
        "鉴定师·老陈",
        "鉴定师",
        (roles.AUTHENTICATOR,),
        "上海",
        "十年奢侈品鉴定经验，包袋、腕表、首饰。",
        95,
    ),
    NamedAccount(
        "qingxi",
        "13900000005",
        "清洗·刘姐",
        "清洗消毒",
        (roles.CARE_TECHNICIAN,),
        "上海",
        "皮具护理、羊绒干洗、母婴用品高温消毒。",
        95,
    ),
    NamedAccount(
        "sheying",
        "13900000006",
        "摄影·阿杰",
        "摄影师",
        (roles.PHOTOGRAPHER,),
        "上海",
        "平铺、上身、细节、瑕疵，一件不落。",
        94,
    ),
    NamedAccount(
        "kefu",
        "13900000007",
        "客服·甜甜",
        "客服",
        (roles.CUSTOMER_SERVICE,),
        "上海",
        "工作日 9:00–21:00 在线，售后问题找我。",
        94,
    ),
    NamedAccount(
        "caiwu", "13900000008", "财务·王姐", "财务", (roles.FINANCE,), "上海", "收款确认、结算打款、对账。", 94
    ),
    NamedAccount(
        SELLER_USERNAME,
        "13900000010",
        "Cici的衣橱",
        "闲置主",
        (roles.MEMBER,),
        "杭州",
        "前外贸女装买手，衣橱常年 S 码。只出自己穿过、保存得好的衣服和包，成色如实写。",
        88,
    ),
    NamedAccount(
        EXPERT_USERNAME,
        "13900000011",
        "搭配师Vivian",
        "达人",
        (roles.MEMBER,),
        "上海",
        "前时尚杂志造型助理，做了 8 年私人穿搭顾问。擅长小个子和产后身材的通勤搭配、轻奢包袋的一包多搭，"
        "也帮姐妹们把衣橱里的旧衣重新配成套。二宝妈妈，158cm，欢迎来咨询。",
        86,
    ),
    NamedAccount(
        MEMBER_USERNAME,
        "13900000012",
        "小雨妈妈",
        "群员",
        (roles.MEMBER,),
        "上海",
        "女儿小雨 2 岁半，通勤穿搭 M 码，常收童装和绘本。",
        84,
    ),
)

DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(account.role_label, account.username, account.phone, DEMO_PASSWORD) for account in NAMED_ACCOUNTS
]

# Named accounts' addresses: (username, label, recipient, province, city, district, detail, postal code).
NAMED_ADDRESSES = (
    (MEMBER_USERNAME, "家", "周婷", "上海市", "上海市", "徐汇区", "宜山路 700 弄 12 号 1202 室", "200233"),
    (
        MEMBER_USERNAME,
        "公司",
        "周婷",
        "上海市",
        "上海市",
        "静安区",
        "南京西路 1266 号恒隆广场办公楼一座 32 层",
        "200040",
    ),
    (
        SELLER_USERNAME,
        "家",
        "钱思思",
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路 259 号昌地火炬大厦 1 号楼 806 室",
        "310012",
    ),
    (EXPERT_USERNAME, "工作室", "沈薇", "上海市", "上海市", "长宁区", "愚园路 1107 号 3 号楼 201 室", "200050"),
)

# --- pools for ordinary members -------------------------------------------

MOBILE_PREFIXES = (
    *(f"13{digit}" for digit in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("172", "173", "175", "176", "177", "178"),
    *(f"18{digit}" for digit in range(10)),
    *("191", "193", "195", "198", "199"),
)
RESERVED_PHONE_PREFIX = "1390000"  # the named accounts' memorable numbers

# (city as members write it, weight, province, prefecture, ((district, postal code, streets), ...))
REGIONS = (
    (
        "上海",
        18,
        "上海市",
        "上海市",
        (
            ("徐汇区", "200030", ("漕溪北路", "天钥桥路", "宜山路", "龙华中路")),
            ("浦东新区", "200120", ("张杨路", "世纪大道", "锦绣路", "杨高南路")),
            ("静安区", "200040", ("南京西路", "延安中路", "万航渡路")),
            ("长宁区", "200050", ("愚园路", "天山路", "虹桥路")),
            ("闵行区", "201100", ("七莘路", "莘松路", "虹井路")),
            ("杨浦区", "200433", ("国定路", "淞沪路", "控江路")),
        ),
    ),
    (
        "北京",
        14,
        "北京市",
        "北京市",
        (
            ("朝阳区", "100020", ("望京街", "建国路", "朝阳北路", "东三环中路")),
            ("海淀区", "100080", ("中关村大街", "学院路", "万柳中路")),
            ("东城区", "100010", ("东直门南大街", "安定门外大街")),
            ("西城区", "100032", ("西直门外大街", "金融大街")),
            ("丰台区", "100071", ("丰台北路", "方庄路")),
            ("通州区", "101100", ("新华西街", "梨园路")),
        ),
    ),
    (
        "杭州",
        10,
        "浙江省",
        "杭州市",
        (
            ("西湖区", "310012", ("文三路", "天目山路", "古墩路")),
            ("上城区", "310002", ("解放路", "秋涛路")),
            ("拱墅区", "310005", ("莫干山路", "湖墅南路")),
            ("滨江区", "310051", ("江南大道", "滨盛路")),
            ("余杭区", "311100", ("文一西路", "五常大道")),
        ),
    ),
    (
        "深圳",
        10,
        "广东省",
        "深圳市",
        (
            ("南山区", "518052", ("南海大道", "后海大道", "科苑路")),
            ("福田区", "518048", ("深南中路", "福华路", "香蜜湖路")),
            ("宝安区", "518101", ("新安六路", "宝安大道")),
            ("龙华区", "518109", ("民治大道", "人民路")),
            ("罗湖区", "518001", ("人民南路", "东门中路")),
        ),
    ),
    (
        "广州",
        8,
        "广东省",
        "广州市",
        (
            ("天河区", "510620", ("天河北路", "体育西路", "华夏路")),
            ("越秀区", "510030", ("东风中路", "中山五路")),
            ("海珠区", "510220", ("江南大道中", "新港中路")),
            ("番禺区", "511400", ("西丽路", "兴南大道")),
        ),
    ),
    (
        "成都",
        8,
        "四川省",
        "成都市",
        (
            ("锦江区", "610021", ("春熙路", "东大街")),
            ("武侯区", "610041", ("科华北路", "人民南路四段")),
            ("青羊区", "610031", ("长顺上街", "光华村街")),
            ("成华区", "610051", ("建设路", "府青路")),
        ),
    ),
    (
        "南京",
        6,
        "江苏省",
        "南京市",
        (
            ("鼓楼区", "210009", ("中山北路", "湖南路")),
            ("建邺区", "210019", ("江东中路", "应天大街")),
            ("玄武区", "210018", ("珠江路", "中山路")),
            ("秦淮区", "210001", ("中华路", "太平南路")),
        ),
    ),
    (
        "苏州",
        6,
        "江苏省",
        "苏州市",
        (
            ("姑苏区", "215000", ("干将路", "人民路")),
            ("吴中区", "215104", ("东吴北路", "宝带西路")),
            ("虎丘区", "215011", ("狮山路", "长江路")),
        ),
    ),
    (
        "武汉",
        4,
        "湖北省",
        "武汉市",
        (
            ("武昌区", "430071", ("中北路", "中南路")),
            ("江汉区", "430022", ("解放大道", "建设大道")),
            ("洪山区", "430074", ("珞喻路", "光谷大道")),
        ),
    ),
    (
        "重庆",
        4,
        "重庆市",
        "重庆市",
        (
            ("渝中区", "400010", ("民族路", "中山三路")),
            ("江北区", "400020", ("建新北路", "北城天街")),
            ("渝北区", "401147", ("金开大道", "新牌坊一路")),
        ),
    ),
    ("西安", 3, "陕西省", "西安市", (("雁塔区", "710061", ("小寨东路", "高新路")), ("碑林区", "710001", ("南大街",)))),
    ("天津", 3, "天津市", "天津市", (("和平区", "300041", ("南京路", "营口道")), ("南开区", "300100", ("鞍山西道",)))),
    (
        "长沙",
        3,
        "湖南省",
        "长沙市",
        (("岳麓区", "410006", ("麓山南路", "金星中路")), ("芙蓉区", "410011", ("五一大道",))),
    ),
    (
        "厦门",
        2,
        "福建省",
        "厦门市",
        (("思明区", "361004", ("湖滨南路", "莲前西路")), ("湖里区", "361006", ("仙岳路",))),
    ),
    ("青岛", 2, "山东省", "青岛市", (("市南区", "266071", ("香港中路", "山东路")), ("崂山区", "266061", ("秦岭路",)))),
    (
        "宁波",
        2,
        "浙江省",
        "宁波市",
        (("鄞州区", "315100", ("天童南路", "中山东路")), ("海曙区", "315010", ("药行街",))),
    ),
    (
        "合肥",
        2,
        "安徽省",
        "合肥市",
        (("蜀山区", "230031", ("长江西路", "潜山路")), ("包河区", "230041", ("马鞍山路",))),
    ),
    (
        "郑州",
        2,
        "河南省",
        "郑州市",
        (("金水区", "450003", ("花园路", "农业路")), ("郑东新区", "450018", ("金水东路",))),
    ),
    (
        "无锡",
        1,
        "江苏省",
        "无锡市",
        (("梁溪区", "214001", ("中山路", "解放南路")), ("滨湖区", "214071", ("蠡湖大道",))),
    ),
    ("昆明", 1, "云南省", "昆明市", (("五华区", "650021", ("青年路", "人民中路")), ("盘龙区", "650051", ("北京路",)))),
)

COMPOUNDS = (
    "阳光花园",
    "翠湖园",
    "春晓苑",
    "锦绣华庭",
    "枫林绿洲",
    "水岸新城",
    "金色家园",
    "和平里小区",
    "馨园",
    "星海湾",
    "御景湾",
    "世纪城",
    "紫薇花园",
    "绿地香树花城",
    "万科城市花园",
    "保利香槟国际",
    "华润幸福里",
    "碧桂园",
    "名都公寓",
    "桂花城",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严戴莫孔汤"
)
GIVEN_NAMES = (
    "婷",
    "静",
    "丽",
    "芳",
    "敏",
    "燕",
    "娟",
    "艳",
    "丹",
    "晶",
    "倩",
    "蕾",
    "璐",
    "颖",
    "瑶",
    "琳",
    "悦",
    "佳怡",
    "思琪",
    "雨桐",
    "欣怡",
    "梓涵",
    "诗涵",
    "晓雯",
    "雅婷",
    "慧敏",
    "晓燕",
    "海燕",
    "春梅",
    "丽娜",
    "梦瑶",
    "嘉欣",
    "若曦",
    "文静",
    "雪莹",
    "美玲",
    "婉清",
    "一帆",
    "子怡",
    "静怡",
)

# Nicknames as people use them on WeChat.
KID_NAMES = (
    "小雨",
    "安安",
    "朵朵",
    "乐乐",
    "果果",
    "豆豆",
    "糖糖",
    "悠悠",
    "甜甜",
    "米粒",
    "球球",
    "可可",
    "多多",
    "团团",
    "圆圆",
    "嘟嘟",
    "妞妞",
    "小满",
    "一一",
    "橙子",
    "桃子",
    "芒果",
    "小鱼",
    "七七",
    "十一",
    "宸宸",
    "轩轩",
    "睿睿",
    "诺诺",
    "恩恩",
    "暖暖",
    "笑笑",
    "皮皮",
    "牛牛",
    "壮壮",
    "芊芊",
    "苗苗",
    "贝贝",
    "航航",
    "西西",
)
MOTHER_SUFFIXES = ("妈妈", "妈妈", "妈妈", "的妈", "妈", "麻麻", "妈咪", "娘")
DOUBLED_NAMES = (
    "琪琪",
    "晓晓",
    "雯雯",
    "娜娜",
    "珊珊",
    "露露",
    "菲菲",
    "蓓蓓",
    "婷婷",
    "莉莉",
    "茜茜",
    "佳佳",
    "媛媛",
    "慧慧",
    "静静",
    "楠楠",
    "丹丹",
    "萌萌",
    "圆圆",
    "彤彤",
)
ENGLISH_NAMES = (
    "Kiki",
    "Sunny",
    "Wendy",
    "Nana",
    "Lulu",
    "Fiona",
    "Bella",
    "Annie",
    "Tina",
    "Lily",
    "Cici",
    "Yuki",
    "Vivi",
    "Cherry",
    "Grace",
    "Amy",
    "Coco",
    "Joyce",
    "Iris",
    "Momo",
    "Yoyo",
    "Helen",
    "Emma",
    "Zoe",
    "Ivy",
)
LITERARY_NAMES = (
    "林夕",
    "南风",
    "青柠",
    "半夏",
    "沐晴",
    "晚星",
    "知秋",
    "清欢",
    "木槿",
    "白露",
    "初夏",
    "予安",
    "星河",
    "鹿鸣",
    "听雨",
    "暮雪",
    "苏苏",
    "棠梨",
    "素素",
    "温言",
    "若水",
    "浅浅",
    "栀子",
    "蔓蔓",
    "一禾",
    "安然",
    "拾光",
    "念念",
    "锦瑟",
    "微凉",
)
PLAYFUL_NAMES = (
    "一只小馒头",
    "爱吃草莓的猫",
    "晴天小猪",
    "柠檬不萌",
    "奶茶续命",
    "佛系宝妈",
    "不想上班的周一",
    "减肥失败的阿敏",
    "小仙女本仙",
    "早睡早起的鹿",
    "咸鱼翻身中",
    "努力赚奶粉钱",
    "断舍离ing",
    "衣橱清理中",
    "通勤小白领",
    "魔都小胖妞",
    "西湖边的鱼",
    "蓉城吃货",
    "深漂十年",
    "背着娃去上班",
    "二宝妈在线带娃",
    "今天也要美美哒",
    "剁手党",
    "包治百病",
    "小个子穿搭日记",
    "宝宝辅食研究所",
    "夜猫子妈妈",
    "慢慢来比较快",
    "一颗大白菜",
    "想去海边",
)

BIO_TASTES = (
    "轻奢包袋爱好者",
    "通勤穿搭",
    "日系简约风",
    "法式复古",
    "小香风外套控",
    "运动休闲风",
    "真丝控",
    "羊绒大衣囤货党",
    "耳饰收集癖",
    "爱买丝巾",
    "大牌基础款",
    "韩系温柔风",
    "极简黑白灰",
    "汉服同袍",
    "中古包爱好者",
)
BIO_FAMILY = (
    "二胎妈妈",
    "新手妈妈",
    "宝宝 0-3 岁",
    "女儿 5 岁",
    "儿子 2 岁半",
    "双胞胎妈妈",
    "全职妈妈",
    "职场妈妈",
    "孕 6 个月",
    "宝宝刚满月",
    "大宝上小学了",
    "一儿一女",
)
BIO_SIZES = ("身高 160，M 码", "S 码小个子", "微胖 L 码", "梨形身材", "155 小个子", "165/M", "鞋码 37")
BIO_HABITS = (
    "断舍离进行中",
    "只收干净成色好的",
    "闲置换奶粉钱",
    "东西都是自用，成色放心",
    "喜欢和姐妹们交流穿搭",
    "理性消费，按需入手",
    "收童装、绘本",
    "佛系出闲置",
    "求购 Longchamp 和 Coach",
    "宝宝长得快，衣服穿几次就小了",
    "喜欢淘中古",
    "周末才有空看群",
)


def _regions_for(count: int, rng: random.Random) -> list:
    """`count` regions in proportion to their weights (largest remainders), shuffled."""
    total = sum(region[1] for region in REGIONS)
    shares = [(region, count * region[1] / total) for region in REGIONS]
    regions = [region for region, share in shares for _ in range(int(share))]
    by_remainder = sorted(shares, key=lambda pair: pair[1] - int(pair[1]), reverse=True)
    regions += [region for region, _share in by_remainder[: count - len(regions)]]
    rng.shuffle(regions)
    return regions


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone not in taken and not phone.startswith(RESERVED_PHONE_PREFIX):
            taken.add(phone)
            return phone


def _username(rng: random.Random, taken: set[str]) -> str:
    # The same shape as the usernames sign-up generates for people who do not choose one.
    while True:
        username = f"u{rng.getrandbits(32):08x}"
        if username not in taken:
            taken.add(username)
            return username


def _nickname(rng: random.Random, city: str, taken: set[str]) -> str:
    while True:
        pattern = rng.choices(("mother", "english", "literary", "playful", "surname"), weights=(40, 22, 14, 14, 10))[0]
        if pattern == "mother":
            name = rng.choice(KID_NAMES) + rng.choice(MOTHER_SUFFIXES)
            if rng.random() < 0.08:
                name = f"{city}{name}"
        elif pattern == "english":
            name = rng.choice(DOUBLED_NAMES) + rng.choice(ENGLISH_NAMES)
        elif pattern == "literary":
            name = rng.choice(LITERARY_NAMES)
            if rng.random() < 0.3:
                name += rng.choice(("_", "·", "")) + rng.choice(ENGLISH_NAMES)
        elif pattern == "playful":
            name = rng.choice(PLAYFUL_NAMES)
        else:
            surname = rng.choice(SURNAMES)
            name = rng.choice(
                (f"{surname}姐", f"阿{rng.choice(GIVEN_NAMES)[-1]}", f"{rng.choice(ENGLISH_NAMES)}{surname}")
            )
        if name not in taken:
            taken.add(name)
            return name


def _bio(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return ""
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(BIO_FAMILY))
    parts.append(rng.choice(BIO_TASTES))
    if rng.random() < 0.4:
        parts.append(rng.choice(BIO_SIZES))
    if rng.random() < 0.5:
        parts.append(rng.choice(BIO_HABITS))
    return rng.choice(("｜", "，", " · ")).join(parts)


def _joined(rng: random.Random, now):
    """About a third joined in the launch week (the first group filled in 20 minutes), the rest since."""
    days = (
        rng.uniform(LAUNCH_DAYS_AGO - 7, LAUNCH_DAYS_AGO)
        if rng.random() < 0.35
        else rng.uniform(0, LAUNCH_DAYS_AGO - 7)
    )
    local = timezone.localtime(now) - timedelta(days=int(days))
    hour = rng.choices(range(24), weights=[1, 1, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 4, 4, 3, 3, 3, 3, 4, 6, 8, 9, 8, 4])[0]
    joined = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    return joined if joined <= now else joined - timedelta(days=1)


def _street_address(rng: random.Random, region, district_row) -> str:
    street = rng.choice(district_row[2])
    if region[0] == "上海":
        return (
            f"{street} {rng.randint(1, 1800)} 弄 {rng.randint(1, 60)} 号 {rng.randint(1, 28)}{rng.randint(1, 4):02d} 室"
        )
    building = rng.choice(("栋", "号楼", "幢"))
    return (
        f"{street} {rng.randint(1, 999)} 号{rng.choice(COMPOUNDS)} {rng.randint(1, 30)} {building} "
        f"{rng.randint(1, 4)} 单元 {rng.randint(1, 32)}{rng.randint(1, 4):02d}"
    )


def _real_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


# --- seeding --------------------------------------------------------------


def _seed_named(now) -> dict[str, User]:
    created: dict[str, User] = {}
    for account in NAMED_ACCOUNTS:
        user = services.user_create(
            phone=account.phone,
            display_name=account.display_name,
            password=DEMO_PASSWORD,
            username=account.username,
            city=account.city,
            roles=(roles.MEMBER,) if roles.MEMBER in account.roles else (),
        )
        services.user_profile_update(user=user, display_name=account.display_name, bio=account.bio, city=account.city)
        for code in account.roles:
            if code == roles.MEMBER:
                continue
            # The owner grants the station roles (her own has no actor).
            services.role_grant(user=user, role=code, actor=created.get(OWNER_USERNAME), note=NOTE, check_actor=False)
        joined = now - timedelta(days=account.joined_days_ago)
        User.objects.filter(pk=user.pk).update(date_joined=joined)
        user.date_joined = joined
        created[account.username] = user
    for username, label, recipient, province, city, district, detail, postal_code in NAMED_ADDRESSES:
        user = created[username]
        services.address_create(
            user=user,
            data={
                "label": label,
                "recipient_name": recipient,
                "recipient_phone": user.phone,
                "province": province,
                "city": city,
                "district": district,
                "detail": detail,
                "postal_code": postal_code,
            },
        )
    return created


def _seed_members(rng: random.Random, now) -> tuple[int, int]:
    """Insert MEMBER_COUNT ordinary members; most have one address. Returns (members, addresses)."""
    password_hash = make_password(DEMO_PASSWORD)  # one hash for everyone: the same password
    phones = {account.phone for account in NAMED_ACCOUNTS}
    usernames = {account.username for account in NAMED_ACCOUNTS}
    nicknames = {account.display_name for account in NAMED_ACCOUNTS}
    users, addresses = [], {}
    for index, region in enumerate(_regions_for(MEMBER_COUNT, rng)):
        user = User(
            username=_username(rng, usernames),
            display_name=_nickname(rng, region[0], nicknames),
            city=region[0],
            bio=_bio(rng),
            date_joined=_joined(rng, now),
            password=password_hash,
        )
        user.set_phone(_phone(rng, phones))
        users.append(user)
        if index % 8 == 7:
            continue  # one member in eight has not entered an address yet
        district = rng.choice(region[4])
        addresses[user.username] = {
            "label": rng.choices(("家", "公司", "父母家", ""), weights=(70, 15, 5, 10))[0],
            "recipient_name": _real_name(rng),
            "recipient_phone": user.phone if rng.random() < 0.9 else _phone(rng, phones),
            "province": region[2],
            "city": region[3],
            "district": district[0],
            "detail": _street_address(rng, region, district),
            "postal_code": district[1],
        }
    User.objects.bulk_create(users, batch_size=200)
    # Read back the primary keys (not every database returns them from a bulk insert).
    saved = list(User.objects.filter(username__in=[user.username for user in users]).order_by("pk"))
    member_group, _created = Group.objects.get_or_create(name=roles.MEMBER)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=member_group.pk) for user in saved], batch_size=500
    )
    RoleChange.objects.bulk_create(
        [RoleChange(user=user, role=roles.MEMBER, granted=True, actor=None, note="sign-up") for user in saved],
        batch_size=500,
    )
    for user in saved:
        data = addresses.get(user.username)
        if data is not None:
            services.address_create(user=user, data=data)
    return len(saved), len(addresses)


def seed(*, stdout) -> None:
    rng = random.Random(RANDOM_SEED)  # noqa: S311 (sample data, not secrets)
    now = timezone.now()
    named = _seed_named(now)
    members, addresses = _seed_members(rng, now)
    stdout.write(
        f"accounts: {len(named)} demo logins (owner, {len(roles.OPERATOR_ROLES) - 1} operators, seller, expert, "
        f"member), {members} more members, {addresses + len(NAMED_ADDRESSES)} addresses"
    )
