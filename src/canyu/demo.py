"""A believable demo world: friends in several countries and three weeks of bilingual feedback.

Everything is written through the services (accounts and community), so every rule holds and
the status histories, merge records and notifications exist exactly as if people had clicked.
The world is generated from templates with a seeded ``random.Random``: the same seed gives the
same people, posts, duplicates, votes and decisions; only the timestamps move with "now".

What is in it:

- friends in eight countries (CN, IN, ID, MY, SG, PH, US, ES) with fitting names and locales;
- an admin, two team members and two demo friends who can sign in (see ``DEMO_LOGINS``);
- bug reports and ideas about a phone, about 60% in English and 40% in Chinese, spread over the
  past three weeks, on several device models and weekly builds;
- true duplicates: the same problem reported again in other words, sometimes in the other
  language; the older ones are merged by the team, the recent ones wait in the triage queue;
- Zipf-like votes (a few posts collect many, most a handful), comments in both languages, and
  team decisions in every status with reasons friends can read.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.community.models import Comment, Kind, Merge, Post, Status, Vote
from canyu.db import utcnow
from canyu.errors import Conflict
from canyu.mail import take_outbox

Progress = Callable[[str, int, int], None]

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed on purpose, demo data only
DEMO_DOMAIN = "example.com"
WINDOW_DAYS = 21


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    display_name: str


@dataclass(frozen=True)
class DemoSummary:
    friends: int
    countries: int
    posts: int
    posts_by_language: dict[str, int]
    votes: int
    comments: int
    statuses: dict[str, int]
    duplicates_merged: int
    logins: list[DemoLogin]


@dataclass(frozen=True)
class _Account:
    email: str
    display_name: str
    locale: str
    country: str
    role: Role = Role.FRIEND


_ADMIN = _Account(f"admin@{DEMO_DOMAIN}", "Demo Admin", "en", "SG", Role.ADMIN)
_TEAM_ZH = _Account(f"team.wei@{DEMO_DOMAIN}", "张伟 · canyu", "zh", "CN", Role.TEAM)
_TEAM_EN = _Account(f"team.ananya@{DEMO_DOMAIN}", "Ananya Rao · canyu", "en", "IN", Role.TEAM)
_FRIEND_EN = _Account(f"friend@{DEMO_DOMAIN}", "Alex Tan", "en", "SG")
_FRIEND_ZH = _Account(f"pengyou@{DEMO_DOMAIN}", "阿杰", "zh", "CN")
_DEMO_ACCOUNTS = (_ADMIN, _TEAM_ZH, _TEAM_EN, _FRIEND_EN, _FRIEND_ZH)

DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(a.email, DEMO_PASSWORD, a.role.value, a.display_name) for a in _DEMO_ACCOUNTS
]

# --- people ----------------------------------------------------------------------------------

_CN_SURNAMES = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
)
_CN_GIVEN = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("浩然", "haoran"),
    ("子涵", "zihan"),
    ("雨桐", "yutong"),
    ("欣怡", "xinyi"),
    ("梓轩", "zixuan"),
    ("一诺", "yinuo"),
    ("宇航", "yuhang"),
    ("思远", "siyuan"),
    ("佳琪", "jiaqi"),
    ("晓东", "xiaodong"),
    ("志强", "zhiqiang"),
    ("文静", "wenjing"),
    ("俊杰", "junjie"),
    ("晨曦", "chenxi"),
)
_CN_NICKNAMES = (
    ("夜猫子", "yemaozi"),
    ("咖啡不加糖", "kafei"),
    ("极客老张", "jikelaozhang"),
    ("摄影小白", "sheying"),
    ("骑行的风", "qixing"),
    ("数码控", "shumakong"),
    ("路人甲", "lurenjia"),
    ("深圳打工人", "shenzhen"),
    ("北漂小刘", "beipiao"),
    ("爱折腾的阿杰", "aizheteng"),
    ("早睡早起", "zaoshui"),
    ("一只程序猿", "chengxuyuan"),
)
_ROMAN_CN_SURNAMES = ("Tan", "Lim", "Lee", "Ng", "Wong", "Chan", "Goh", "Ong", "Teo", "Chua")
_ROMAN_CN_GIVEN = (
    "Wei Ming",
    "Hui Min",
    "Jia Hui",
    "Kok Leong",
    "Mei Ling",
    "Chee Keong",
    "Xin Yi",
    "Jun Jie",
)
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IN": (
        (
            "Aarav",
            "Priya",
            "Rahul",
            "Ananya",
            "Vikram",
            "Sneha",
            "Arjun",
            "Kavya",
            "Rohan",
            "Divya",
            "Aditya",
            "Pooja",
            "Karthik",
            "Neha",
            "Siddharth",
            "Meera",
            "Amit",
            "Lakshmi",
            "Sanjay",
        ),
        (
            "Sharma",
            "Patel",
            "Verma",
            "Iyer",
            "Reddy",
            "Nair",
            "Mehta",
            "Rao",
            "Gupta",
            "Menon",
            "Singh",
            "Desai",
            "Subramanian",
            "Joshi",
            "Das",
            "Pillai",
            "Kumar",
            "Bose",
        ),
    ),
    "ID": (
        (
            "Budi",
            "Siti",
            "Agus",
            "Dewi",
            "Rizky",
            "Putri",
            "Andi",
            "Ayu",
            "Fajar",
            "Intan",
            "Yusuf",
            "Ratna",
            "Dimas",
            "Wulan",
            "Hendra",
        ),
        (
            "Santoso",
            "Rahayu",
            "Wijaya",
            "Lestari",
            "Pratama",
            "Handayani",
            "Saputra",
            "Kusuma",
            "Nugroho",
            "Permata",
            "Hidayat",
            "Setiawan",
            "Siregar",
            "Halim",
        ),
    ),
    "MALAY": (
        (
            "Ahmad",
            "Nur Aisyah",
            "Muhammad Hafiz",
            "Siti Nurhaliza",
            "Amirul",
            "Farah",
            "Hakim",
            "Nurul",
        ),
        ("Ismail", "Abdullah", "Rahman", "Hassan", "Yusof", "Osman"),
    ),
    "TAMIL": (
        ("Kavitha", "Suresh", "Ganesh", "Revathi", "Murugan", "Thivya"),
        ("Raman", "Krishnan", "Muthu", "Selvam"),
    ),
    "PH": (
        (
            "Juan",
            "Maria",
            "Jose",
            "Angelica",
            "Mark",
            "Kristine",
            "Paolo",
            "Joanna",
            "Miguel",
            "Andrea",
            "Carlo",
            "Bea",
        ),
        (
            "dela Cruz",
            "Santos",
            "Reyes",
            "Bautista",
            "Villanueva",
            "Garcia",
            "Mendoza",
            "Aquino",
            "Ramos",
            "Castillo",
        ),
    ),
    "US": (
        (
            "Emily",
            "Michael",
            "Sarah",
            "David",
            "Jessica",
            "Chris",
            "Ashley",
            "Kevin",
            "Megan",
            "Jason",
            "Lauren",
            "Tyler",
        ),
        (
            "Johnson",
            "Brown",
            "Miller",
            "Wilson",
            "Davis",
            "Taylor",
            "Moore",
            "Anderson",
            "Clark",
            "Lewis",
        ),
    ),
    "ES": (
        (
            "Lucía",
            "Javier",
            "Carmen",
            "Alejandro",
            "Sofía",
            "Pablo",
            "Elena",
            "Diego",
            "Marta",
            "Sergio",
        ),
        (
            "García",
            "Martínez",
            "López",
            "Sánchez",
            "Fernández",
            "Gómez",
            "Ruiz",
            "Torres",
            "Navarro",
            "Romero",
        ),
    ),
}
# (country, how many, kind of name, locale); 220 friends, about 39% with a Chinese locale.
_POPULATION = (
    ("CN", 60, "cn", "zh"),
    ("CN", 10, "cn_nick", "zh"),
    ("IN", 38, "IN", "en"),
    ("ID", 24, "ID", "en"),
    ("MY", 9, "MALAY", "en"),
    ("MY", 5, "cn", "zh"),
    ("MY", 4, "roman_cn", "en"),
    ("MY", 4, "TAMIL", "en"),
    ("SG", 10, "cn", "zh"),
    ("SG", 6, "roman_cn", "en"),
    ("SG", 2, "MALAY", "en"),
    ("SG", 2, "TAMIL", "en"),
    ("PH", 18, "PH", "en"),
    ("US", 16, "US", "en"),
    ("ES", 12, "ES", "en"),
)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", ascii_text.lower()).strip(".")


def _friend_accounts(rng: random.Random) -> list[_Account]:
    taken: Counter[str] = Counter(a.email.split("@")[0] for a in _DEMO_ACCOUNTS)
    people: list[_Account] = []
    for country, count, style, locale in _POPULATION:
        for _ in range(count):
            if style == "cn":
                (sur, sur_py), (given, given_py) = rng.choice(_CN_SURNAMES), rng.choice(_CN_GIVEN)
                name, handle = sur + given, f"{given_py}.{sur_py}"
            elif style == "cn_nick":
                name, handle = rng.choice(_CN_NICKNAMES)
            elif style == "roman_cn":
                name = f"{rng.choice(_ROMAN_CN_SURNAMES)} {rng.choice(_ROMAN_CN_GIVEN)}"
                handle = _slug(name)
            else:
                firsts, lasts = _NAMES[style]
                name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
                handle = _slug(name)
            taken[handle] += 1
            if (n := taken[handle]) > 1:
                handle = f"{handle}{n}"
                if style == "cn_nick":
                    name = f"{name}{n}"
            people.append(_Account(f"{handle}@{DEMO_DOMAIN}", name, locale, country))
    return people


# --- what friends write about ------------------------------------------------------------------

# A phrase in several wordings: (English variants, Chinese variants).
_Words = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class _BugTopic:
    area: str
    area_zh: str
    subject: _Words
    symptoms: tuple[_Words, ...]
    triggers: tuple[_Words, ...]
    phone_only: bool = False


@dataclass(frozen=True)
class _IdeaTopic:
    en: tuple[str, ...]
    zh: tuple[str, ...]
    why_en: str
    why_zh: str
    device: str | None = None  # "phone", "pad" or None (any)


_SINCE_BUILD: _Words = (
    ("since {build}", "after updating to {build}"),
    ("更新{build}以后", "升级到{build}后"),
)
_AFTER_RESTART: _Words = (
    ("after a restart", "after rebooting the phone"),
    ("重启手机后", "每次重启之后"),
)
_SAVER: _Words = (
    ("with battery saver on", "in battery saver mode"),
    ("开省电模式时", "省电模式下"),
)

_BUGS: tuple[_BugTopic, ...] = (
    _BugTopic(
        "Wi-Fi",
        "Wi-Fi",
        (("Wi-Fi", "the Wi-Fi connection"), ("Wi-Fi", "WiFi", "无线网络")),
        (
            (
                ("keeps disconnecting", "drops out", "disconnects every few minutes"),
                ("老是断开", "频繁掉线", "自动断开"),
            ),
            (
                ("shows connected but has no internet", "says connected but nothing loads"),
                ("显示已连接但无法上网", "连上了却没有网络"),
            ),
            (
                ("does not reconnect automatically", "won't reconnect by itself"),
                ("不会自动重连", "无法自动重新连接"),
            ),
            (("becomes very slow", "is painfully slow"), ("网速变得很慢", "速度特别慢")),
        ),
        (
            (("after the screen turns off", "once the screen is locked"), ("锁屏后", "熄屏之后")),
            (
                ("on 5 GHz networks", "when connected to a 5 GHz router"),
                ("连接5GHz网络时", "在5G频段下"),
            ),
            _SINCE_BUILD,
            (
                ("on WPA3 routers", "with a WPA3-only router"),
                ("连接WPA3路由器时", "在WPA3加密的网络上"),
            ),
            (
                ("while the mobile hotspot is on", "while sharing a hotspot"),
                ("同时开热点时", "开启个人热点的时候"),
            ),
            (
                ("on our office 802.1X network", "on the company's enterprise network"),
                ("连公司802.1X企业网时", "在公司企业认证网络下"),
            ),
        ),
    ),
    _BugTopic(
        "Bluetooth",
        "蓝牙",
        (("Bluetooth audio", "audio on my Bluetooth earbuds"), ("蓝牙耳机", "蓝牙音频")),
        (
            (("cuts out every few seconds", "stutters and skips"), ("断断续续", "声音卡顿")),
            (("disconnects randomly", "drops the connection"), ("会自动断开", "突然断连")),
            (
                ("plays on only one side", "only plays in one ear"),
                ("只有一边有声音", "只有单耳出声"),
            ),
            (
                ("is out of sync with video", "lags behind the picture"),
                ("声音和画面不同步", "音画延迟很大"),
            ),
        ),
        (
            (
                ("when Wi-Fi is on at the same time", "while also connected to Wi-Fi"),
                ("同时开着Wi-Fi时", "连着WiFi的情况下"),
            ),
            (("during video calls", "in video calls"), ("视频通话时", "打视频电话的时候")),
            (
                ("with LDAC enabled", "when the codec is set to LDAC"),
                ("开启LDAC后", "编码选LDAC时"),
            ),
            (
                ("when the phone is in my pocket", "with the phone in a back pocket"),
                ("手机放口袋里时", "手机揣在兜里的时候"),
            ),
            _SINCE_BUILD,
            (
                (
                    "while my watch is connected too",
                    "when the watch and earbuds are both connected",
                ),
                ("同时连着手表时", "手表和耳机一起连接时"),
            ),
        ),
    ),
    _BugTopic(
        "Camera",
        "相机",
        (("the camera app", "the camera"), ("相机", "相机应用")),
        (
            (("crashes", "force closes", "closes itself"), ("闪退", "直接崩溃退出")),
            (
                ("freezes on a black screen", "shows only a black preview"),
                ("黑屏卡住", "预览一片黑"),
            ),
            (
                ("takes several seconds to save a photo", "is very slow to save photos"),
                ("保存照片要好几秒", "拍完照片保存特别慢"),
            ),
            (("produces blurry photos", "cannot focus"), ("拍出来是糊的", "无法对焦")),
        ),
        (
            (("when switching to night mode", "in night mode"), ("切换夜景模式时", "在夜景模式下")),
            (
                ("when opened from the lock screen", "when launched from the lock screen shortcut"),
                ("从锁屏打开时", "锁屏界面快捷启动时"),
            ),
            (
                ("when switching to the ultra-wide lens", "on the 0.6x ultra-wide"),
                ("切换到超广角时", "用0.6倍超广角的时候"),
            ),
            (("when recording 4K video", "while filming in 4K"), ("录4K视频时", "拍4K视频的时候")),
            (
                ("right after scanning a QR code", "after using the QR scanner"),
                ("扫完二维码后", "用过扫码功能之后"),
            ),
            (
                ("in portrait mode with the front camera", "when taking portrait selfies"),
                ("前置人像模式下", "用前摄拍人像的时候"),
            ),
        ),
    ),
    _BugTopic(
        "Battery",
        "电池",
        (("the battery", "my battery"), ("电池", "电量")),
        (
            (("drains very fast", "drains much faster than before"), ("掉电很快", "耗电特别快")),
            (
                ("drops from 20% to 0% suddenly", "jumps from 20% straight to shutdown"),
                ("从20%直接掉到关机", "20%左右突然关机"),
            ),
            (("gets hot", "runs warm"), ("发热严重", "发烫")),
            (("charges very slowly", "takes hours to charge"), ("充电很慢", "充电要好几个小时")),
        ),
        (
            (("overnight in standby", "while idle at night"), ("晚上待机时", "夜间待机的时候")),
            _SINCE_BUILD,
            (
                ("while navigating with GPS", "during map navigation"),
                ("导航时", "用地图导航的时候"),
            ),
            (("with 5G turned on", "on 5G"), ("开5G的时候", "在5G网络下")),
            (
                ("while the hotspot is on", "when sharing mobile data"),
                ("开热点时", "共享网络的时候"),
            ),
            (
                ("when the always-on display is enabled", "with AOD on"),
                ("开启息屏显示后", "打开AOD的时候"),
            ),
        ),
    ),
    _BugTopic(
        "Notifications",
        "通知",
        (("notifications", "app notifications"), ("通知", "消息通知")),
        (
            (
                ("arrive late", "show up minutes late", "are delayed by several minutes"),
                ("延迟很久才到", "要过好几分钟才收到"),
            ),
            (("do not arrive at all", "never show up"), ("完全收不到", "根本不推送")),
            (("make no sound", "come in silently"), ("没有声音", "不响铃")),
            (
                ("disappear before I can read them", "vanish from the shade on their own"),
                ("还没看就自己消失了", "在通知栏里自动消失"),
            ),
        ),
        (
            (
                ("from chat apps", "for messages in chat apps like WhatsApp or WeChat"),
                ("聊天应用的", "微信、WhatsApp这类聊天软件的"),
            ),
            (("when the screen is off", "while the phone is locked"), ("锁屏时", "熄屏状态下")),
            _SAVER,
            (
                (
                    "after the phone sits idle for an hour",
                    "after an hour without touching the phone",
                ),
                ("手机放置一小时后", "长时间不动手机之后"),
            ),
            (("from the email app", "for new emails"), ("邮件应用的", "新邮件")),
            (
                ("in the work profile", "for apps in the work profile"),
                ("工作资料里的", "工作空间里的"),
            ),
        ),
    ),
    _BugTopic(
        "Dual SIM",
        "双卡",
        (("the second SIM", "SIM 2"), ("副卡", "卡2")),
        (
            (("loses signal", "shows no service"), ("没有信号", "显示无服务")),
            (("cannot receive calls", "misses incoming calls"), ("接不到电话", "来电打不进来")),
            (("does not receive SMS", "stops getting text messages"), ("收不到短信", "短信收不到")),
            (
                ("cannot use mobile data", "has no mobile data"),
                ("无法使用移动数据", "数据上不了网"),
            ),
        ),
        (
            (
                ("after switching the default data SIM", "once I change the data SIM"),
                ("切换默认上网卡后", "换了数据卡之后"),
            ),
            (("when roaming abroad", "while roaming"), ("出国漫游时", "漫游的时候")),
            (
                ("with VoLTE enabled on both SIMs", "when both SIMs use VoLTE"),
                ("双卡都开VoLTE时", "两张卡同时开VoLTE的时候"),
            ),
            _AFTER_RESTART,
            (
                ("when it is an eSIM", "with an eSIM as the second line"),
                ("副卡用eSIM时", "用eSIM做副卡的时候"),
            ),
            _SINCE_BUILD,
        ),
        phone_only=True,
    ),
    _BugTopic(
        "Lock screen",
        "锁屏",
        (("the lock screen", "the lock screen"), ("锁屏界面", "锁屏")),
        (
            (("freezes for a few seconds", "lags badly"), ("卡住几秒", "非常卡顿")),
            (
                ("loses my clock style", "does not show the clock widget"),
                ("时钟样式不见了", "时钟组件不显示"),
            ),
            (
                ("rejects my fingerprint", "does not recognise my fingerprint"),
                ("指纹识别不了", "指纹解锁失败"),
            ),
            (
                ("shows message text even though I hid it", "reveals notification content"),
                ("隐藏了通知内容却仍然显示", "泄露了消息内容"),
            ),
        ),
        (
            _AFTER_RESTART,
            _SINCE_BUILD,
            (
                ("with a live wallpaper set", "with a video wallpaper"),
                ("设置动态壁纸后", "用视频壁纸的时候"),
            ),
            (
                ("when I raise the phone to wake it", "with raise to wake"),
                ("抬起亮屏时", "开启抬手亮屏后"),
            ),
            (("in dark mode", "with dark mode on"), ("深色模式下", "开深色模式的时候")),
            (
                ("while an alarm is ringing", "when an alarm goes off"),
                ("闹钟响的时候", "闹钟响铃时"),
            ),
        ),
    ),
    _BugTopic(
        "Keyboard",
        "输入法",
        (("the canyu keyboard", "the built-in keyboard"), ("自带输入法", "系统键盘")),
        (
            (("lags when typing", "is slow to respond"), ("打字卡顿", "反应很慢")),
            (("covers the text field", "hides the input box"), ("挡住了输入框", "遮住输入框")),
            (
                ("forgets my learned words", "loses my personal dictionary"),
                ("忘记了学习的词", "个人词库丢失"),
            ),
            (
                ("switches language by itself", "jumps back to English"),
                ("自己切换语言", "总是跳回英文"),
            ),
        ),
        (
            (("in chat apps", "when replying to messages"), ("在聊天软件里", "回消息的时候")),
            (("in landscape", "with the phone turned sideways"), ("横屏时", "横屏的时候")),
            _SINCE_BUILD,
            (("in one-handed mode", "with one-handed mode on"), ("单手模式下", "开单手模式时")),
            (
                ("in the browser address bar", "when typing a web address"),
                ("在浏览器地址栏", "输入网址时"),
            ),
            (("in split-screen", "when two apps share the screen"), ("分屏时", "分屏模式下")),
        ),
    ),
    _BugTopic(
        "Storage",
        "存储",
        (("storage", "internal storage"), ("存储空间", "手机存储")),
        (
            (
                ("fills up with 'Other' files", "shows 20 GB of 'Other'"),
                ("被“其他”文件占满", "“其他”占了20GB"),
            ),
            (
                ("shows the wrong free space", "reports less free space than there is"),
                ("显示的可用空间不对", "剩余空间显示错误"),
            ),
            (
                ("is full and the cleaner frees nothing", "stays full after cleaning"),
                ("满了但清理没用", "清理后空间不变"),
            ),
            (
                ("is very slow to copy files", "copies files at a crawl"),
                ("拷贝文件很慢", "传文件速度很慢"),
            ),
        ),
        (
            (
                ("after the OTA update", "after installing the latest update"),
                ("OTA升级后", "装完最新更新后"),
            ),
            (
                ("when chat apps keep lots of media", "with gigabytes of chat media"),
                ("聊天记录很多时", "聊天软件文件很大的时候"),
            ),
            (
                ("over USB to a PC", "when connected to a computer"),
                ("连接电脑时", "通过USB连电脑时"),
            ),
            (
                ("with a second user created", "after adding a guest user"),
                ("创建第二个用户后", "添加访客用户后"),
            ),
            (("on the 128 GB model", "on my 128 GB version"), ("128GB版本", "在128G版本上")),
            (
                ("after recording long videos", "after filming a lot of 4K"),
                ("录了长视频之后", "拍了很多4K视频后"),
            ),
        ),
    ),
    _BugTopic(
        "System update",
        "系统更新",
        (("the system update", "the OTA update"), ("系统更新", "OTA升级")),
        (
            (("fails at 99%", "gets stuck at 99%"), ("卡在99%", "到99%就失败")),
            (
                ("fails with 'Installation failed'", "shows an installation error"),
                ("提示安装失败", "报错“安装失败”"),
            ),
            (
                ("downloads the same package again and again", "keeps re-downloading"),
                ("反复下载同一个包", "一直重复下载"),
            ),
            (
                ("leaves the phone in a boot loop", "makes the phone restart in a loop"),
                ("导致手机反复重启", "升级后无限重启"),
            ),
        ),
        (
            (("to {build}", "when installing {build}"), ("升级{build}时", "安装{build}的时候")),
            (("on mobile data", "over 5G data"), ("用流量下载时", "在移动数据下")),
            (
                ("with less than 5 GB free", "when storage is nearly full"),
                ("存储不足5GB时", "空间快满的时候"),
            ),
            (("on the developer channel", "on developer builds"), ("开发版通道", "开发版上")),
            (
                ("with an SD card inserted", "with a memory card in"),
                ("插着SD卡时", "装了存储卡的时候"),
            ),
            (
                ("during the scheduled night install", "with automatic night install"),
                ("夜间自动安装时", "定时夜间更新的时候"),
            ),
        ),
    ),
    _BugTopic(
        "Location",
        "定位",
        (("GPS", "location"), ("GPS", "定位")),
        (
            (("takes minutes to get a fix", "is slow to lock on"), ("定位要好几分钟", "搜星很慢")),
            (
                ("drifts by hundreds of metres", "jumps around the map"),
                ("漂移几百米", "在地图上乱跳"),
            ),
            (("loses the signal", "drops out"), ("信号丢失", "经常丢失")),
            (("points the wrong way", "shows the wrong heading"), ("方向不对", "指向错误")),
        ),
        (
            (("in navigation apps", "while navigating"), ("在导航软件里", "导航的时候")),
            (("between tall buildings", "in the city centre"), ("在市区高楼间", "高楼多的地方")),
            _SAVER,
            _SINCE_BUILD,
            (("while running", "when tracking a run"), ("跑步时", "记录跑步的时候")),
            (
                ("in a car mount", "when the phone is in a car holder"),
                ("放在车载支架上时", "车载导航时"),
            ),
        ),
    ),
    _BugTopic(
        "Calls",
        "通话",
        (("calls", "phone calls"), ("通话", "打电话")),
        (
            (
                ("drop after a few minutes", "hang up by themselves"),
                ("几分钟后自动挂断", "会突然断掉"),
            ),
            (
                ("have echo for the other person", "echo on the other side"),
                ("对方听到回声", "有回音"),
            ),
            (("are too quiet", "have very low earpiece volume"), ("听筒声音太小", "音量很低")),
            (
                (
                    "leave the screen black so I cannot hang up",
                    "black out the screen until they end",
                ),
                ("黑屏无法唤醒", "屏幕黑了挂不掉"),
            ),
        ),
        (
            (("over VoLTE", "with VoLTE on"), ("用VoLTE时", "开VoLTE的时候")),
            (
                ("with Bluetooth earbuds", "on my Bluetooth headset"),
                ("连着蓝牙耳机时", "用蓝牙耳机的时候"),
            ),
            (("on speakerphone", "using the speaker"), ("开免提时", "免提通话时")),
            (("with Wi-Fi calling on", "over Wi-Fi calling"), ("用WLAN通话时", "开启Wi-Fi通话时")),
            _SINCE_BUILD,
            (("with a case on", "with the official case"), ("戴着保护壳时", "装了官方手机壳后")),
        ),
        phone_only=True,
    ),
    _BugTopic(
        "Gestures",
        "手势",
        (("the back gesture", "swipe-back"), ("返回手势", "侧滑返回")),
        (
            (("does not work", "stops responding"), ("失灵", "没反应")),
            (("triggers by accident", "fires when I don't want it"), ("经常误触", "容易误触发")),
            (("lags behind my finger", "feels laggy"), ("跟手性差", "动画卡顿")),
            (
                ("closes the app instead of going back", "exits the app instead of going back"),
                ("直接退出应用而不是返回", "一划就退出应用"),
            ),
        ),
        (
            (("in landscape", "when the phone is sideways"), ("横屏时", "横屏的时候")),
            (("in the browser", "in Chrome"), ("在浏览器里", "在Chrome里")),
            (("with a thick case", "with a case on"), ("戴厚壳时", "戴着手机壳的时候")),
            (("in games", "while gaming"), ("玩游戏时", "在游戏里")),
            _SINCE_BUILD,
            (
                ("with a third-party launcher", "with another launcher as default"),
                ("用第三方桌面时", "设置了第三方启动器后"),
            ),
        ),
    ),
    _BugTopic(
        "Display",
        "屏幕",
        (("the screen", "the display"), ("屏幕", "显示屏")),
        (
            (("flickers", "flashes"), ("闪烁", "频闪")),
            (("has a green tint", "looks greenish"), ("发绿", "偏绿")),
            (("stays at 60 Hz", "won't go to 120 Hz"), ("一直是60Hz", "不能切到120Hz")),
            (
                ("does not wake on double tap", "ignores double-tap to wake"),
                ("双击无法唤醒", "双击亮屏失效"),
            ),
        ),
        (
            (
                ("at low brightness", "at night with brightness low"),
                ("低亮度时", "晚上调低亮度的时候"),
            ),
            (("in dark mode", "with dark mode on"), ("深色模式下", "开深色模式的时候")),
            _SINCE_BUILD,
            (("when watching videos", "during video playback"), ("看视频时", "播放视频的时候")),
            (("while charging", "when plugged in"), ("充电时", "插着充电器的时候")),
            (
                ("after the phone warms up", "when the phone gets warm"),
                ("手机发热后", "机身变热的时候"),
            ),
        ),
    ),
    _BugTopic(
        "Home screen",
        "桌面",
        (("the home screen", "the launcher"), ("桌面", "系统桌面")),
        (
            (("resets my icon layout", "scrambles my icons"), ("图标布局被重置", "图标乱了")),
            (
                ("reloads after I close an app", "redraws every time I go home"),
                ("返回时重新加载", "每次回到桌面都重载"),
            ),
            (("lags when swiping pages", "stutters when swiping"), ("滑动翻页卡顿", "翻页掉帧")),
            (("loses my widgets", "removes widgets"), ("小部件消失", "组件丢失")),
        ),
        (
            _AFTER_RESTART,
            _SINCE_BUILD,
            (("with an icon pack", "when using an icon pack"), ("使用图标包时", "换了图标包以后")),
            (("with a 5x6 grid", "on the 5x6 layout"), ("5x6布局下", "用5x6网格时")),
            (
                ("with many apps open", "with lots of apps in recents"),
                ("后台应用多时", "后台开了很多应用的时候"),
            ),
            (
                ("after changing the theme", "after applying a new theme"),
                ("更换主题后", "换了主题之后"),
            ),
        ),
    ),
    _BugTopic(
        "NFC",
        "NFC",
        (("NFC payments", "tap-to-pay payments"), ("NFC支付", "NFC刷卡")),
        (
            (("fail at the terminal", "are rejected by the reader"), ("刷不了", "在读卡器上失败")),
            (("need several taps", "take several tries"), ("要刷好几次", "经常刷不上")),
            (
                ("open the wrong card", "launch the wrong wallet"),
                ("弹出错误的卡", "调起了错误的钱包"),
            ),
        ),
        (
            (("at metro gates", "at subway gates"), ("在地铁闸机", "坐地铁刷闸机时")),
            (("with the screen off", "without unlocking"), ("熄屏时", "不解锁的时候")),
            (("with a case on", "with a thick case"), ("戴着保护壳时", "装了手机壳的时候")),
            _SINCE_BUILD,
            _SAVER,
        ),
        phone_only=True,
    ),
    _BugTopic(
        "Performance",
        "性能",
        (("the phone", "the whole system"), ("手机", "系统")),
        (
            (("lags and stutters", "feels laggy"), ("卡顿掉帧", "明显变卡")),
            (("restarts by itself", "reboots randomly"), ("自动重启", "随机重启")),
            (
                ("kills background apps", "closes apps in the background"),
                ("杀后台严重", "后台应用被清理"),
            ),
            (("heats up", "gets very hot"), ("发热严重", "发烫")),
        ),
        (
            _SINCE_BUILD,
            (
                ("in games like Genshin Impact", "when playing Genshin Impact"),
                ("玩原神等游戏时", "打原神的时候"),
            ),
            (
                ("when gaming while charging", "while charging and gaming"),
                ("边充边玩时", "充电玩游戏时"),
            ),
            (
                ("with more than ten apps open", "with many apps open"),
                ("开了十几个应用时", "后台应用很多的时候"),
            ),
            (("in split-screen", "in split-screen mode"), ("分屏时", "分屏模式下")),
            (("during video calls", "in video calls"), ("视频通话时", "打视频电话的时候")),
        ),
    ),
    _BugTopic(
        "Audio",
        "声音",
        (("the speaker", "the loudspeaker"), ("扬声器", "外放")),
        (
            (("crackles", "makes a crackling noise"), ("有破音", "滋滋响")),
            (
                ("is much quieter than before", "has become very quiet"),
                ("声音变小了很多", "音量很小"),
            ),
            (("stays silent", "makes no sound at all"), ("没有声音", "完全不出声")),
        ),
        (
            (("at high volume", "at full volume"), ("大音量时", "音量开到最大时")),
            (("after the phone got wet", "after rain"), ("进水后", "淋过雨之后")),
            _SINCE_BUILD,
            (("in games", "while gaming"), ("玩游戏时", "在游戏里")),
            (("for alarms", "when an alarm rings"), ("闹钟响铃时", "闹钟的")),
        ),
    ),
)

_IDEAS: tuple[_IdeaTopic, ...] = (
    _IdeaTopic(
        ("built-in call recording", "a call recorder in the dialer"),
        ("通话录音功能", "系统自带的通话录音"),
        "I need it for work calls with customers.",
        "工作上经常需要录音留证。",
        "phone",
    ),
    _IdeaTopic(
        ("dark mode that follows sunset and sunrise", "a sunset schedule for dark mode"),
        ("按日出日落自动切换的深色模式", "日落自动开启深色模式"),
        "Switching by hand every evening is tedious.",
        "每天晚上手动切换太麻烦了。",
    ),
    _IdeaTopic(
        ("forced dark mode for apps that lack one", "dark mode for every third-party app"),
        ("第三方应用强制深色", "所有应用都能用深色模式"),
        "Some banking apps are blinding at night.",
        "有些银行App晚上亮得刺眼。",
    ),
    _IdeaTopic(
        ("a pure black AMOLED theme", "true black backgrounds in dark mode"),
        ("纯黑AMOLED主题", "深色模式纯黑背景"),
        "Grey dark mode wastes the OLED screen.",
        "灰色的深色模式浪费了OLED屏幕。",
    ),
    _IdeaTopic(
        ("an app drawer on the home screen", "an optional app drawer"),
        ("桌面抽屉模式", "应用抽屉"),
        "Twelve pages of icons are too many.",
        "十几页图标太多了。",
    ),
    _IdeaTopic(
        ("automatic app categories in the drawer", "sorting the drawer by category"),
        ("抽屉按类别自动分类", "应用抽屉自动分组"),
        "Finding an app among 150 is slow.",
        "一百多个应用找起来太慢。",
    ),
    _IdeaTopic(
        ("a way to hide apps from the home screen", "hidden apps in the launcher"),
        ("隐藏桌面应用", "桌面隐藏图标功能"),
        "Some preinstalled apps I never use.",
        "有些预装应用从来不用。",
    ),
    _IdeaTopic(
        ("a lock for the home screen layout", "locking icons in place"),
        ("锁定桌面布局", "防止图标被误拖动"),
        "My kids keep moving my icons.",
        "孩子老是把图标拖乱。",
    ),
    _IdeaTopic(
        ("an icon size slider", "adjustable icon size"),
        ("图标大小调节", "自定义图标尺寸"),
        "The default icons are too big on the Note.",
        "Note上的默认图标太大了。",
    ),
    _IdeaTopic(
        ("back-tap gestures", "a double tap on the back to take a screenshot"),
        ("背部轻敲手势", "背部双击截屏"),
        "One-handed screenshots are hard.",
        "单手截屏很难。",
    ),
    _IdeaTopic(
        ("a three-finger swipe for screenshots", "three-finger screenshot gesture"),
        ("三指下滑截屏", "三指截屏手势"),
        "Pressing two buttons at once is awkward.",
        "同时按两个键很别扭。",
    ),
    _IdeaTopic(
        ("a shake gesture for the flashlight", "shake to turn on the torch"),
        ("摇一摇打开手电筒", "晃动开启手电筒"),
        "Handy when walking home in the dark.",
        "晚上走夜路很方便。",
        "phone",
    ),
    _IdeaTopic(
        ("a clipboard history in the keyboard", "clipboard manager in the keyboard"),
        ("输入法剪贴板历史", "键盘剪贴板管理"),
        "I copy several things and lose the first one.",
        "复制多条内容时前面的就丢了。",
    ),
    _IdeaTopic(
        ("a floating keyboard mode", "a movable floating keyboard"),
        ("悬浮键盘模式", "可拖动的悬浮键盘"),
        "Useful on the Pad in landscape.",
        "平板横屏时很有用。",
        "pad",
    ),
    _IdeaTopic(
        ("a default SIM per contact", "remembering which SIM to call each contact with"),
        ("按联系人设置默认拨号卡", "记住每个联系人用哪张卡打"),
        "I call work contacts with one SIM and family with the other.",
        "工作联系人用一张卡，家人用另一张。",
        "phone",
    ),
    _IdeaTopic(
        ("scheduled switching of the data SIM", "switching the data SIM on a schedule"),
        ("定时切换上网卡", "按时间自动切换数据卡"),
        "One of my SIMs has cheap night data.",
        "有张卡夜间流量很便宜。",
        "phone",
    ),
    _IdeaTopic(
        ("dual apps for more messengers", "app cloning for more apps"),
        ("更多应用支持双开", "应用分身支持更多应用"),
        "I keep separate work and personal accounts.",
        "工作和生活账号要分开。",
    ),
    _IdeaTopic(
        ("a charging limit at 80%", "an option to stop charging at 80%"),
        ("充电上限80%保护", "充到80%自动停止"),
        "It keeps the battery healthy for longer.",
        "可以延长电池寿命。",
    ),
    _IdeaTopic(
        ("a battery health page", "battery cycle count in settings"),
        ("电池健康度显示", "设置里显示电池循环次数"),
        "I want to know when to replace the battery.",
        "想知道什么时候该换电池。",
    ),
    _IdeaTopic(
        ("per-app background limits", "background restrictions per app"),
        ("按应用设置后台限制", "单独限制每个应用的后台"),
        "A few apps drain the battery in the background.",
        "少数应用在后台耗电严重。",
    ),
    _IdeaTopic(
        ("a notification history", "a log of dismissed notifications"),
        ("通知历史记录", "查看已清除的通知"),
        "I often swipe away something important.",
        "经常不小心划掉重要通知。",
    ),
    _IdeaTopic(
        ("snoozing notifications", "a snooze button on notifications"),
        ("通知稍后提醒", "通知延后提醒按钮"),
        "Some messages I want to handle later.",
        "有些消息想晚点再处理。",
    ),
    _IdeaTopic(
        ("edge lighting for notifications", "a glowing edge when a notification arrives"),
        ("通知边缘闪光", "来消息时屏幕边缘发光"),
        "There is no notification LED.",
        "手机没有呼吸灯。",
    ),
    _IdeaTopic(
        ("more lock screen clock styles", "new clock designs for the lock screen"),
        ("更多锁屏时钟样式", "锁屏时钟新样式"),
        "There are only three styles now.",
        "现在只有三种样式。",
    ),
    _IdeaTopic(
        ("custom lock screen shortcuts", "choosing the lock screen shortcuts"),
        ("自定义锁屏快捷方式", "锁屏快捷入口可选"),
        "I never use the wallet shortcut.",
        "钱包快捷方式我从来不用。",
    ),
    _IdeaTopic(
        ("my own photos on the always-on display", "custom images for AOD"),
        ("息屏显示支持自定义图片", "AOD自定义照片"),
        "A photo of my family would be nice.",
        "想放一张家人的照片。",
    ),
    _IdeaTopic(
        ("a pro video mode with manual controls", "manual ISO and shutter in video"),
        ("专业录像模式", "录像支持手动ISO和快门"),
        "I shoot short films on my phone.",
        "我用手机拍短片。",
    ),
    _IdeaTopic(
        ("custom photo watermarks", "editable photo watermarks"),
        ("自定义照片水印", "水印文字可编辑"),
        "The default watermark only shows the model.",
        "默认水印只显示机型。",
    ),
    _IdeaTopic(
        ("a document scanning mode in the camera", "a scanner mode for documents"),
        ("相机文档扫描模式", "相机扫描文档功能"),
        "I scan receipts every week.",
        "每周都要扫描发票。",
    ),
    _IdeaTopic(
        ("a duplicate photo cleaner", "finding and removing similar photos"),
        ("重复照片清理", "相似照片查找和删除"),
        "Burst shots fill my storage.",
        "连拍照片占满了存储。",
    ),
    _IdeaTopic(
        ("app archiving to free space", "archiving unused apps"),
        ("应用归档以节省空间", "不常用应用自动归档"),
        "The 128 GB model fills up fast.",
        "128G版本很快就满了。",
    ),
    _IdeaTopic(
        ("resumable update downloads", "pausing and resuming system update downloads"),
        ("系统更新断点续传", "更新包下载可暂停继续"),
        "A big update restarts from zero when Wi-Fi drops.",
        "WiFi一断更新就从头下载。",
    ),
    _IdeaTopic(
        ("the full changelog before installing an update", "a detailed changelog for updates"),
        ("更新前显示完整更新日志", "详细的更新说明"),
        "I want to know what a build changes before I install it.",
        "安装前想知道改了什么。",
    ),
    _IdeaTopic(
        ("a rollback to the previous build", "downgrading to the last build"),
        ("回退到上一个版本", "系统版本降级"),
        "When a build breaks something I want to go back.",
        "新版本出问题时想退回去。",
    ),
    _IdeaTopic(
        ("showing the password of saved Wi-Fi networks", "viewing saved Wi-Fi passwords"),
        ("查看已保存WiFi密码", "显示已连接WiFi的密码"),
        "Friends ask me for the password all the time.",
        "朋友总是问我WiFi密码。",
    ),
    _IdeaTopic(
        ("an app lock with fingerprint", "locking single apps with fingerprint"),
        ("指纹应用锁", "单个应用指纹加锁"),
        "I lend my phone to my kids.",
        "手机经常借给孩子玩。",
    ),
    _IdeaTopic(
        ("a clipboard access alert", "a notice when an app reads the clipboard"),
        ("剪贴板读取提醒", "应用读取剪贴板时提示"),
        "I want to know which apps read my clipboard.",
        "想知道哪些应用读了剪贴板。",
    ),
    _IdeaTopic(
        ("a privacy dashboard of permission use", "a timeline of permission use"),
        ("权限使用记录面板", "隐私权限使用时间线"),
        "Which app used the microphone last night?",
        "昨晚是哪个应用用了麦克风？",
    ),
    _IdeaTopic(
        ("a built-in spam call blocker", "blocking of known spam numbers"),
        ("骚扰电话拦截", "自动拦截诈骗电话"),
        "I get five telemarketing calls a day.",
        "每天接到五个推销电话。",
        "phone",
    ),
    _IdeaTopic(
        ("live captions for phone calls", "real-time captions during calls"),
        ("通话实时字幕", "打电话时显示字幕"),
        "My father is hard of hearing.",
        "我父亲听力不好。",
        "phone",
    ),
    _IdeaTopic(
        ("a 90 Hz option to save battery", "a 90 Hz refresh rate setting"),
        ("90Hz刷新率选项", "可选90Hz刷新率"),
        "120 Hz is too much for reading.",
        "看书用不到120Hz。",
    ),
    _IdeaTopic(
        ("DC dimming", "flicker-free DC dimming"),
        ("DC调光", "低亮度防频闪DC调光"),
        "My eyes hurt at low brightness.",
        "低亮度下眼睛难受。",
    ),
    _IdeaTopic(
        ("a reading mode with paper texture", "a paper-like reading mode"),
        ("纸质感阅读模式", "类纸阅读模式"),
        "Reading novels at night strains my eyes.",
        "晚上看小说眼睛累。",
    ),
    _IdeaTopic(
        ("customisable quick settings tiles", "rearranging quick settings"),
        ("自定义控制中心开关", "控制中心按钮可排序"),
        "The tiles I use most are on page two.",
        "常用的开关在第二页。",
    ),
    _IdeaTopic(
        ("a screen recorder with internal audio", "screen recording with system sound"),
        ("带内录的屏幕录制", "录屏支持系统内录"),
        "I record game clips for friends.",
        "我要录游戏片段分享。",
    ),
    _IdeaTopic(
        ("a desktop mode with free windows", "free-form windows like a PC"),
        ("平板自由窗口桌面模式", "像电脑一样的自由窗口"),
        "The Pad could replace my laptop.",
        "平板可以代替笔记本。",
        "pad",
    ),
    _IdeaTopic(
        ("a split keyboard for the Pad", "a split thumb keyboard on the tablet"),
        ("平板分离式键盘", "平板左右分开的键盘"),
        "Typing with two thumbs on the Pad is hard.",
        "平板上双手打字很难。",
        "pad",
    ),
    _IdeaTopic(
        ("Lunar New Year themes", "festival themes for Chinese New Year"),
        ("春节主题", "新春节日主题"),
        "It would be fun for the holidays.",
        "过年换个主题很有气氛。",
    ),
    _IdeaTopic(
        ("a map of free public Wi-Fi hotspots", "offline free Wi-Fi maps"),
        ("免费公共WiFi热点地图", "离线免费WiFi地图"),
        "Mobile data is expensive when travelling.",
        "出门在外流量很贵。",
    ),
    _IdeaTopic(
        ("a data limit per app", "limiting mobile data for each app"),
        ("按应用限制流量", "单独设置应用流量上限"),
        "Video apps eat my data plan.",
        "视频应用太耗流量。",
    ),
    _IdeaTopic(
        ("per-app volume control", "separate volume for each app"),
        ("单独调节应用音量", "每个应用独立音量"),
        "Music and games fight over the volume.",
        "听歌和游戏的音量总打架。",
    ),
    _IdeaTopic(
        ("eSIM transfer from an old phone", "moving an eSIM to a new phone"),
        ("eSIM一键转移", "旧手机eSIM转移到新手机"),
        "My carrier charges for a new eSIM.",
        "运营商重新办eSIM要收费。",
        "phone",
    ),
    _IdeaTopic(
        ("a full local backup to a PC", "complete offline backups"),
        ("完整本地备份到电脑", "离线完整备份"),
        "I don't want to upload everything to a cloud.",
        "不想把所有东西都传到云端。",
    ),
    _IdeaTopic(
        ("custom system fonts", "choosing the system font"),
        ("自定义系统字体", "更换系统字体"),
        "The default font is too thin for me.",
        "默认字体太细了。",
    ),
    _IdeaTopic(
        ("a dual clock for home time when travelling", "showing home time abroad"),
        ("出差时显示双时钟", "出国时显示家乡时间"),
        "I travel between Jakarta and Shanghai a lot.",
        "经常往返雅加达和上海。",
    ),
    _IdeaTopic(
        ("a one-handed mode that pulls the screen down", "an easier one-handed mode"),
        ("下拉屏幕的单手模式", "更好用的单手模式"),
        "The Note is hard to use with one hand.",
        "Note单手很难操作。",
        "phone",
    ),
)

_EN_TITLE_FRAMES = (
    "{S} {v} {t}",
    "{S} {v} {t} on my {d}",
    "[{b}] {S} {v} {t}",
    "{S} {v} {t}, anyone else?",
    "Bug: {s} {v} {t}",
)
_ZH_TITLE_FRAMES = (
    "{t}{s}{v}",
    "{d}{t}{s}{v}",
    "【{b}】{t}{s}{v}",
    "{t}{s}{v}，有人遇到吗？",
    "求助：{t}{s}{v}",
    "{t}{s}{v}，求修复",
)
_EN_BODY_FRAMES = (
    "{S} {v} {t}. {F}. {tried} {ask}\n\nDevice: {d}\nBuild: {b}",
    "For a few days now {s} {v} {t}. {F}. {tried}\n\n{d}, {b}",
    "On my {d} ({b}) {s} {v} {t}. {F}. {ask}",
    "As the title says: {s} {v} {t}. {tried} {ask}\n\nDevice: {d} · build {b}",
)
_ZH_BODY_FRAMES = (
    "{t}{s}{v}，{f}。{tried}{ask}\n\n机型：{d}\n版本：{b}",
    "最近{t}{s}{v}，{f}。{tried}\n\n{d}，{b}",
    "我的{d}（{b}）{t}{s}{v}，{f}。{ask}",
    "如题，{t}{s}{v}。{tried}{ask}\n\n机型：{d} · 版本 {b}",
)
_EN_FREQ = (
    "it happens every time",
    "it happens about half the time",
    "it happened three times today",
    "not every time, but several times a day",
)
_ZH_FREQ = ("每次都会出现", "大概一半的概率", "今天已经遇到三次了", "不是每次，但一天会有好几次")
_EN_TRIED = (
    "Restarting helps for a while.",
    "I already cleared the cache and restarted.",
    "Safe mode does not help.",
    "I sent logs through the feedback app.",
)
_ZH_TRIED = (
    "重启后能好一阵。",
    "已经清过缓存也重启过了。",
    "安全模式下也一样。",
    "已经通过反馈应用提交了日志。",
)
_EN_ASK = (
    "Can you please look into it?",
    "Is a fix coming?",
    "Anyone else seeing this?",
    "Happy to send logs.",
)
_ZH_ASK = ("麻烦看一下。", "什么时候能修复？", "有人遇到同样的问题吗？", "需要日志可以联系我。")

_EN_IDEA_TITLES = (
    "Please add {x}",
    "Feature request: {x}",
    "Idea: {x}",
    "It would be great to have {x}",
    "Suggestion: {x}",
)
_ZH_IDEA_TITLES = ("建议增加{x}", "希望支持{x}", "【建议】{x}", "能不能加个{x}？", "求{x}")
_EN_IDEA_BODIES = (
    "I'd really like {x}. {why} {extra}",
    "Could canyu get {x}? {why} {extra}",
    "{X}, please. {why} {extra}",
)
_ZH_IDEA_BODIES = (
    "希望能有{x}。{why}{extra}",
    "建议加入{x}。{why}{extra}",
    "{x}真的很需要。{why}{extra}",
)
_EN_IDEA_EXTRA = (
    "Other phones have had this for years.",
    "I would use it every day.",
    "Happy to test it on the developer channel.",
    "",
)
_ZH_IDEA_EXTRA = ("其他手机早就有了。", "每天都会用到。", "愿意在开发版上帮忙测试。", "")

_EN_BUG_COMMENTS = (
    "Same here on {d}.",
    "+1, happens to me on {b} too.",
    "Any workaround for now?",
    "Can confirm, {d} with {b}.",
    "Restarting fixes it for me for a day or so.",
    "Upvoted. Please fix this soon!",
    "I have had the same issue since last week.",
    "Works fine for me on {d}, maybe it depends on the region?",
    "Still happening after the latest update.",
)
_ZH_BUG_COMMENTS = (
    "同样的问题，{d}。",
    "+1，{b}也有。",
    "有临时解决办法吗？",
    "确认，{d} {b}一样。",
    "重启能好一天左右。",
    "顶一下，希望尽快修复！",
    "上周开始我也遇到了。",
    "我这边{d}正常，可能和地区有关？",
    "最新版本还是有这个问题。",
)
_EN_IDEA_COMMENTS = (
    "This would be really useful.",
    "Yes please! I'd use this every day.",
    "+1, my old phone had this.",
    "Would love this on the {d} too.",
    "Maybe make it optional so it doesn't clutter settings.",
)
_ZH_IDEA_COMMENTS = (
    "这个功能太需要了！",
    "支持！每天都会用。",
    "+1，以前的手机就有。",
    "希望{d}也能用上。",
    "可以做成可选的，别让设置太乱。",
)
_EN_DUPE_COMMENTS = ("Is this the same as #{o}?", "Looks like #{o} again.")
_ZH_DUPE_COMMENTS = ("这个和#{o}是同一个问题吧？", "好像和#{o}重复了。")
_EN_TEAM_COMMENTS = (
    "Thanks for the report. Could you send a log via Settings › Feedback right after it happens?",
    "Thanks! We have passed this to the {area} team.",
    "We are looking into this; votes help us see how many of you are affected.",
)
_ZH_TEAM_COMMENTS = (
    "感谢反馈！问题出现后请立即通过 设置 › 反馈 上传日志。",
    "谢谢，已经转给{area}团队。",
    "我们正在排查，大家的投票能帮我们判断影响范围。",
)

# Team decisions, in the post's language: (English, Chinese) per status and kind.
_REASONS: dict[tuple[Status, Kind], tuple[tuple[str, ...], tuple[str, ...]]] = {
    (Status.ACCEPTED, Kind.BUG): (
        (
            "We can reproduce this on {b} and are working on a fix.",
            "Confirmed by the {area} team. Thanks for the detailed report!",
        ),
        ("已在{b}上复现，正在修复。", "{area}团队已确认，感谢详细的反馈！"),
    ),
    (Status.ACCEPTED, Kind.IDEA): (
        (
            "Good idea! We will design it with your input here.",
            "Accepted: many of you asked for this. Tell us how you would like it to work.",
        ),
        (
            "好建议！我们会参考大家的意见来设计。",
            "已采纳：很多朋友都提过，欢迎说说你希望它怎么用。",
        ),
    ),
    (Status.PLANNED, Kind.BUG): (
        ("A fix is planned for the {next} weekly build.",),
        ("修复已排入{next}周更版本。",),
    ),
    (Status.PLANNED, Kind.IDEA): (
        ("Planned for the {next} weekly build; design notes will follow here.",),
        ("计划在{next}周更版本中加入，设计稿会在这里同步。",),
    ),
    (Status.SHIPPED, Kind.BUG): (
        ("Fixed in {fix}. Thanks to everyone who reported and voted!",),
        ("已在{fix}中修复，感谢大家的反馈和投票！",),
    ),
    (Status.SHIPPED, Kind.IDEA): (
        ("Available in {fix}. Thanks for the idea!",),
        ("{fix}已上线，感谢建议！",),
    ),
    (Status.DECLINED, Kind.BUG): (
        (
            "We could not reproduce this on any test device and have had no new reports since {b}."
            " If it still happens, please post again with a log.",
            "This comes from a third-party app, not from the system; we have told its developer.",
        ),
        (
            "我们在所有测试机上都无法复现，且{b}之后没有新的反馈。如果仍然出现，请附上日志重新发帖。",
            "这是第三方应用的问题，不是系统问题；我们已经反馈给了开发者。",
        ),
    ),
    (Status.DECLINED, Kind.IDEA): (
        (
            "Not for now: few friends voted for it and it would add settings for everyone."
            " We will look again if that changes.",
            "We can't do this well on the current hardware, sorry. We'll keep it in mind for the"
            " next device.",
        ),
        (
            "暂时不做：投票的人比较少，而且会让设置变得更复杂。如果需求增加我们会重新评估。",
            "现有硬件上做不好，抱歉。我们会在下一代设备上考虑。",
        ),
    ),
}
_REOPEN = (
    "Reopened: several friends report that this is back on {fix}.",
    "重新打开：有朋友反馈在{fix}上又出现了。",
)

_DEVICES = ("canyu 1", "canyu 1S", "canyu Note", "canyu Pad")
_DEVICE_WEIGHTS = (25, 35, 30, 10)
# Weekly builds and how many days ago each was released; the next one is being prepared.
_BUILDS = (("4.11.8", 24.0), ("4.11.11", 17.0), ("4.11.15", 10.0), ("4.11.18", 3.0))
_BUILD_NAMES = tuple(name for name, _ in _BUILDS)
_NEXT_BUILD = "4.11.22"


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class _Problem:
    kind: Kind
    bug: _BugTopic | None = None
    symptom: int = 0
    trigger: int = 0
    idea: _IdeaTopic | None = None
    build: str = ""  # the build the problem was first seen on

    @property
    def area(self) -> tuple[str, str]:
        if self.bug is not None:
            return self.bug.area, self.bug.area_zh
        return "product", "产品"


@dataclass
class _Plan:
    problem: _Problem
    group: int
    original: bool
    language: str
    created_at: datetime
    device: str | None
    build: str | None
    author: int = -1
    title: str = ""
    body: str = ""
    wording: tuple[int, ...] = ()
    popularity: int = 0  # how many friends will vote for it
    voters: list[int] = field(default_factory=list)
    path: list[Status] = field(default_factory=list)
    reopen: bool = False
    merge: bool = False
    post_id: int = 0


def _pick(rng: random.Random, n: int, avoid: int | None = None) -> int:
    if avoid is not None and n > 1:
        return rng.choice([i for i in range(n) if i != avoid])
    return rng.randrange(n)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _build_at(rng: random.Random, now: datetime, when: datetime) -> str:
    days_ago = (now - when).total_seconds() / 86400
    released = [name for name, ago in _BUILDS if ago >= days_ago] or [_BUILDS[0][0]]
    if len(released) > 1 and rng.random() < 0.2:  # not everyone has updated yet
        return released[-2]
    return released[-1]


def _fix_build(build: str | None) -> str:
    """Fixes ship in this week's build, unless the problem was reported on it."""
    return _NEXT_BUILD if build == _BUILD_NAMES[-1] else _BUILD_NAMES[-1]


def _device_for(rng: random.Random, problem: _Problem) -> str:
    phone_only = (problem.bug is not None and problem.bug.phone_only) or (
        problem.idea is not None and problem.idea.device == "phone"
    )
    if problem.idea is not None and problem.idea.device == "pad":
        return "canyu Pad"
    while True:
        device = rng.choices(_DEVICES, weights=_DEVICE_WEIGHTS)[0]
        if not (phone_only and device == "canyu Pad"):
            return device


def _write(rng: random.Random, plan: _Plan, avoid: tuple[int, ...] | None) -> None:
    """Title and body for a plan; ``avoid`` is the wording of an earlier report to differ from."""
    zh = plan.language == "zh"
    lang = 1 if zh else 0
    device = plan.device or "canyu 1S"
    build = plan.build or plan.problem.build
    problem = plan.problem
    if problem.bug is not None:
        bug = problem.bug
        subjects = bug.subject[lang]
        symptoms = bug.symptoms[problem.symptom][lang]
        triggers = bug.triggers[problem.trigger][lang]
        frames = _ZH_TITLE_FRAMES if zh else _EN_TITLE_FRAMES
        bodies = _ZH_BODY_FRAMES if zh else _EN_BODY_FRAMES
        old = avoid if avoid and len(avoid) == 5 else (None,) * 5
        choice = (
            _pick(rng, len(frames), old[0]),
            _pick(rng, len(subjects), old[1]),
            _pick(rng, len(symptoms), old[2]),
            _pick(rng, len(triggers), old[3]),
            _pick(rng, len(bodies), old[4]),
        )
        s = subjects[choice[1]]
        words = {
            "S": _cap(s),
            "s": s,
            "v": symptoms[choice[2]],
            "t": triggers[choice[3]].format(build=problem.build),
            "d": device,
            "b": build,
        }
        freq = rng.choice(_ZH_FREQ if zh else _EN_FREQ)
        plan.title = frames[choice[0]].format(**words)
        plan.body = bodies[choice[4]].format(
            **words,
            F=_cap(freq),
            f=freq,
            tried=rng.choice(_ZH_TRIED if zh else _EN_TRIED),
            ask=rng.choice(_ZH_ASK if zh else _EN_ASK),
        )
        plan.wording = choice
        return
    assert problem.idea is not None
    idea = problem.idea
    phrases = idea.zh if zh else idea.en
    idea_titles = _ZH_IDEA_TITLES if zh else _EN_IDEA_TITLES
    idea_bodies = _ZH_IDEA_BODIES if zh else _EN_IDEA_BODIES
    before = avoid if avoid and len(avoid) == 3 else (None,) * 3
    picked = (
        _pick(rng, len(idea_titles), before[0]),
        _pick(rng, len(phrases), before[1]),
        _pick(rng, len(idea_bodies), before[2]),
    )
    x = phrases[picked[1]]
    other = phrases[(picked[1] + 1) % len(phrases)]
    plan.title = idea_titles[picked[0]].format(x=x)
    plan.body = (
        idea_bodies[picked[2]]
        .format(
            x=other,
            X=_cap(other),
            why=idea.why_zh if zh else idea.why_en,
            extra=rng.choice(_ZH_IDEA_EXTRA if zh else _EN_IDEA_EXTRA),
        )
        .strip()
    )
    plan.wording = picked


def _problems(rng: random.Random, bugs: int) -> list[_Problem]:
    combos = [
        (topic, s, t)
        for topic in _BUGS
        for s in range(len(topic.symptoms))
        for t in range(len(topic.triggers))
    ]
    chosen = rng.sample(combos, min(bugs, len(combos)))
    problems = [_Problem(Kind.BUG, bug=b, symptom=s, trigger=t) for b, s, t in chosen]
    problems += [_Problem(Kind.IDEA, idea=idea) for idea in _IDEAS]
    rng.shuffle(problems)
    return problems


def _plan_posts(rng: random.Random, now: datetime) -> list[_Plan]:
    problems = _problems(rng, bugs=400)
    plans: list[_Plan] = []
    earliest = now - timedelta(days=WINDOW_DAYS)
    for group, problem in enumerate(problems):
        # Activity grows towards the present: more recent posts than old ones.
        days_ago = max(WINDOW_DAYS * rng.random() ** 1.3, 0.03)
        when = now - timedelta(days=days_ago, minutes=rng.randrange(60))
        when = max(when, earliest + timedelta(minutes=5))
        language = "zh" if rng.random() < 0.4 else "en"
        build = _build_at(rng, now, when)
        problem.build = build
        device = _device_for(rng, problem)
        plan = _Plan(
            problem=problem,
            group=group,
            original=True,
            language=language,
            created_at=when,
            device=device if problem.kind == Kind.BUG or rng.random() < 0.4 else None,
            build=build if problem.kind == Kind.BUG else None,
        )
        _write(rng, plan, None)
        plans.append(plan)
    # True duplicates: the same problem again, in other words, sometimes in the other language.
    # Popular ideas are asked for again more often than narrow bugs.
    originals = list(plans)
    for plan in originals:
        chance = 0.45 if plan.problem.kind == Kind.IDEA else 0.12
        if rng.random() >= chance:
            continue
        extra = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        last = plan.created_at
        for _ in range(extra):
            gap = timedelta(hours=rng.expovariate(1 / 60) + 1)
            when = min(last + gap, now - timedelta(minutes=20 + rng.randrange(600)))
            if when <= last:
                when = last + timedelta(minutes=10)
            last = when
            cross = rng.random() < 0.35
            language = plan.language if not cross else ("en" if plan.language == "zh" else "zh")
            build = _build_at(rng, now, when)
            if plan.build and _BUILD_NAMES.index(build) < _BUILD_NAMES.index(plan.build):
                build = plan.build
            dupe = _Plan(
                problem=plan.problem,
                group=plan.group,
                original=False,
                language=language,
                created_at=min(when, now - timedelta(minutes=2)),
                device=_device_for(rng, plan.problem) if plan.device else None,
                build=build if plan.build else None,
            )
            _write(rng, dupe, plan.wording if language == plan.language else None)
            plans.append(dupe)
    plans.sort(key=lambda p: p.created_at)
    return plans


def _plan_popularity(rng: random.Random, plans: list[_Plan], friends: int, now: datetime) -> None:
    """Zipf-like: the k-th most popular problem gets about C / k**0.8 voters, C = 60% of friends."""
    originals = [p for p in plans if p.original]
    ranks = list(range(1, len(originals) + 1))
    rng.shuffle(ranks)
    ceiling = int(friends * 0.6)
    first_of: dict[int, _Plan] = {}
    for plan, rank in zip(originals, ranks, strict=True):
        age_days = (now - plan.created_at).total_seconds() / 86400
        youth = min(1.0, 0.35 + age_days / 5)  # brand-new posts have had less time
        plan.popularity = min(ceiling, int(ceiling / rank**0.8 * youth) + rng.randrange(3))
        first_of[plan.group] = plan
    for plan in plans:
        if not plan.original:
            share = rng.uniform(0.05, 0.4)
            plan.popularity = max(1, round(first_of[plan.group].popularity * share))


def _plan_voters(rng: random.Random, plans: list[_Plan], locales: list[str]) -> None:
    """Pick the voters: mostly friends who read the post's language, never its author."""
    by_locale: dict[str, list[int]] = {"en": [], "zh": []}
    for index, locale in enumerate(locales):
        by_locale[locale].append(index)
    everyone = list(range(len(locales)))

    def choose(plan: _Plan, count: int, exclude: set[int]) -> set[int]:
        banned = exclude | {plan.author}
        same = [i for i in by_locale[plan.language] if i not in banned]
        n_same = min(len(same), round(count * 0.75))
        picked = set(rng.sample(same, n_same))
        rest = [i for i in everyone if i not in banned and i not in picked]
        picked.update(rng.sample(rest, min(len(rest), count - n_same)))
        return picked

    first_of = {p.group: p for p in plans if p.original}
    for plan in first_of.values():
        plan.voters = sorted(choose(plan, plan.popularity, set()))
    for plan in plans:
        if plan.original:
            continue
        # Some friends vote for both reports before anyone merges them.
        overlap = [v for v in first_of[plan.group].voters if v != plan.author]
        both = set(rng.sample(overlap, min(len(overlap), plan.popularity // 2)))
        plan.voters = sorted(both | choose(plan, plan.popularity - len(both), both))


def _plan_decisions(rng: random.Random, plans: list[_Plan], now: datetime) -> None:
    originals = sorted((p for p in plans if p.original), key=lambda p: -p.popularity)
    n = len(originals)
    for rank, plan in enumerate(originals):
        chance = 0.9 if rank < n * 0.1 else 0.45 if rank < n * 0.4 else 0.2
        if now - plan.created_at < timedelta(days=2):
            chance *= 0.3
        if rng.random() >= chance:
            continue
        declined = 8 if rank < n * 0.1 else 25
        outcomes = ("accepted", "planned", "shipped", "declined")
        if plan.problem.kind == Kind.BUG:
            outcome = rng.choices(outcomes, weights=(30, 20, 30, declined))[0]
        else:
            outcome = rng.choices(outcomes, weights=(25, 30, 15, declined))[0]
        if outcome == "shipped" and plan.problem.build == _BUILD_NAMES[-1]:
            outcome = "planned"  # reported on this week's build: the fix can only be planned
        if outcome == "accepted":
            plan.path = [Status.ACCEPTED]
        elif outcome == "planned":
            plan.path = rng.choice([[Status.PLANNED], [Status.ACCEPTED, Status.PLANNED]])
        elif outcome == "shipped":
            plan.path = [Status.ACCEPTED, Status.SHIPPED]
            if rng.random() < 0.5:
                plan.path.insert(1, Status.PLANNED)
        else:
            plan.path = [Status.DECLINED]
            if rng.random() < 0.2:  # accepted first, then found not to be worth it
                plan.path.insert(0, Status.ACCEPTED)
    # Make sure every status shows up, and that a regression reopened a couple of shipped fixes.
    for status in (Status.ACCEPTED, Status.PLANNED, Status.SHIPPED, Status.DECLINED):
        if not any(p.path and p.path[-1] == status for p in originals):
            plain = [p for p in originals if not p.path]
            chosen = plain[0] if plain else originals[-1]
            chosen.path = {
                Status.ACCEPTED: [Status.ACCEPTED],
                Status.PLANNED: [Status.ACCEPTED, Status.PLANNED],
                Status.SHIPPED: [Status.ACCEPTED, Status.SHIPPED],
                Status.DECLINED: [Status.DECLINED],
            }[status]
    shipped_bugs = [p for p in originals if p.path[-1:] == [Status.SHIPPED] and p.problem.bug]
    for plan in rng.sample(shipped_bugs, min(2, len(shipped_bugs))):
        plan.reopen = True
    # The team merged the older duplicates; the recent ones still wait in the triage queue.
    dupes = [p for p in plans if not p.original]
    for plan in dupes:
        old = now - plan.created_at > timedelta(days=3)
        plan.merge = rng.random() < (0.85 if old else 0.2)
    originals_by_group = {p.group: p for p in originals}
    cross = [p for p in dupes if p.language != originals_by_group[p.group].language]
    cross.sort(key=lambda p: p.created_at)
    if len(cross) >= 4:  # at least two cross-language merges and two waiting in the queue
        for plan in cross[:2]:
            plan.merge = True
        for plan in cross[-2:]:
            plan.merge = False
    if dupes and not any(p.merge for p in dupes):
        dupes[0].merge = True


def _assign_authors(
    rng: random.Random, plans: list[_Plan], locales: list[str], demo_en: int, demo_zh: int
) -> None:
    """Authors speak the post's language; a few friends write a lot, most write little."""
    pools: dict[str, tuple[list[int], list[float]]] = {}
    for language in ("en", "zh"):
        members = [
            i for i, loc in enumerate(locales) if loc == language and i not in (demo_en, demo_zh)
        ]
        rng.shuffle(members)
        pools[language] = (members, [1 / (k + 1) ** 0.7 for k in range(len(members))])
    for plan in plans:
        members, weights = pools[plan.language]
        plan.author = rng.choices(members, weights=weights)[0]
    # The demo friends wrote a few posts the team acted on, so their inbox tells a story.
    for demo, language in ((demo_en, "en"), (demo_zh, "zh")):
        decided = [p for p in plans if p.original and p.language == language and p.path]
        for plan in rng.sample(decided, min(3, len(decided))):
            plan.author = demo
        merged = [p for p in plans if p.merge and p.language == language]
        if merged:
            rng.choice(merged).author = demo


# --- doing it through the services -------------------------------------------------------------


class _Ticker:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def __call__(self, stage: str, done: int, total: int, every: int = 25) -> None:
        if self.progress is not None and (done % every == 0 or done == total):
            self.progress(stage, done, total)


def _spread(rng: random.Random, start: datetime, now: datetime, mean_hours: float) -> datetime:
    """A moment after ``start``: most activity soon after a post appears, a long tail later."""
    when = start + timedelta(hours=rng.expovariate(1 / mean_hours), minutes=1)
    when = min(when, now - timedelta(seconds=30 + rng.randrange(600)))
    return max(when, start + timedelta(seconds=10))


def fill_demo_world(
    session: Session, *, seed: int = 7, progress: Progress | None = None
) -> DemoSummary:
    """Fill an empty database with a demo world; raises Conflict if there are accounts already.

    The caller commits. Notification emails queued by the services are dropped: the demo's
    addresses are made up (``@example.com``), and nobody should be mailed hundreds of notices.
    """
    if session.scalar(select(func.count()).select_from(User)):
        raise Conflict(
            "The database already has accounts; the demo world only fills an empty database."
        )
    rng = random.Random(seed)
    now = utcnow()
    tick = _Ticker(progress)
    password_hash = accounts.hash_password(DEMO_PASSWORD)

    # People.
    staff = {
        a.email: accounts.create_user(
            session,
            email=a.email,
            password=DEMO_PASSWORD,
            display_name=a.display_name,
            locale=a.locale,
            country=a.country,
            role=a.role,
            password_hash=password_hash,
        )
        for a in _DEMO_ACCOUNTS
    }
    admin, team_zh, team_en = staff[_ADMIN.email], staff[_TEAM_ZH.email], staff[_TEAM_EN.email]
    friend_accounts = [_FRIEND_EN, _FRIEND_ZH, *_friend_accounts(rng)]
    friends: list[User] = []
    for done, account in enumerate(friend_accounts, start=1):
        if account in (_FRIEND_EN, _FRIEND_ZH):
            friends.append(staff[account.email])
        else:
            friends.append(
                accounts.create_user(
                    session,
                    email=account.email,
                    password=DEMO_PASSWORD,
                    display_name=account.display_name,
                    locale=account.locale,
                    country=account.country,
                    password_hash=password_hash,
                )
            )
        tick("friends", done, len(friend_accounts))
    locales = [f.locale for f in friends]

    # The plan: who writes what when, who votes, what the team decides.
    plans = _plan_posts(rng, now)
    _plan_popularity(rng, plans, len(friends), now)
    _plan_decisions(rng, plans, now)
    _assign_authors(rng, plans, locales, demo_en=0, demo_zh=1)
    _plan_voters(rng, plans, locales)

    # Posts, oldest first so ids follow time. Holding them keeps them in the session's (weak)
    # identity map, so the services' lookups by id do not go back to the database.
    posts: list[Post] = []
    for done, plan in enumerate(plans, start=1):
        post = community.create_post(
            session,
            author=friends[plan.author],
            kind=plan.problem.kind.value,
            title=plan.title,
            body=plan.body,
            device_model=plan.device,
            software_build=plan.build,
            language=plan.language,
            created_at=plan.created_at,
        )
        plan.post_id = post.id
        posts.append(post)
        tick("posts", done, len(plans))

    # Votes.
    total_votes = sum(len(p.voters) for p in plans)
    done = 0
    for plan in plans:
        for voter in plan.voters:
            community.vote(
                session,
                user=friends[voter],
                post_id=plan.post_id,
                created_at=_spread(rng, plan.created_at, now, mean_hours=40),
            )
            done += 1
            tick("votes", done, total_votes, every=100)

    # Comments, in the commenter's language; the team answers some, friends point at duplicates.
    _comment(rng, session, plans, friends, team_en, team_zh, now, tick)

    # Merges: the later report goes into the first one.
    first_of = {p.group: p for p in plans if p.original}
    merges = [p for p in plans if p.merge]
    for done, plan in enumerate(merges, start=1):
        actor = rng.choice((admin, team_zh if plan.language == "zh" else team_en))
        community.merge(
            session, actor=actor, source_id=plan.post_id, target_id=first_of[plan.group].post_id
        )
        tick("merges", done, len(merges), every=10)

    # Decisions, with reasons friends can read in their own language.
    decided = [p for p in plans if p.path]
    for done, plan in enumerate(decided, start=1):
        actor = rng.choice((admin, team_zh if plan.language == "zh" else team_en))
        zh = plan.language == "zh"
        area_en, area_zh = plan.problem.area
        facts = {
            "b": plan.build or plan.problem.build,
            "fix": _fix_build(plan.build or plan.problem.build),
            "next": _NEXT_BUILD,
            "area": area_zh if zh else area_en,
        }
        for status in plan.path:
            options = _REASONS[(status, plan.problem.kind)][1 if zh else 0]
            community.change_status(
                session,
                actor=actor,
                post_id=plan.post_id,
                status=status.value,
                reason=rng.choice(options).format(**facts),
            )
        if plan.reopen:
            community.change_status(
                session,
                actor=actor,
                post_id=plan.post_id,
                status=Status.ACCEPTED.value,
                reason=_REOPEN[1 if zh else 0].format(**facts),
            )
        tick("statuses", done, len(decided), every=10)

    session.flush()
    take_outbox(session)
    return _summary(session)


def _comment(
    rng: random.Random,
    session: Session,
    plans: Sequence[_Plan],
    friends: list[User],
    team_en: User,
    team_zh: User,
    now: datetime,
    tick: _Ticker,
) -> None:
    first_of = {p.group: p for p in plans if p.original}
    planned: list[tuple[datetime, _Plan, User, str]] = []
    by_locale: dict[str, list[int]] = {"en": [], "zh": []}
    for index, friend in enumerate(friends):
        by_locale[friend.locale].append(index)
    for plan in plans:
        count = int(math.sqrt(len(plan.voters)) * rng.uniform(0.2, 0.9)) + (rng.random() < 0.3)
        is_bug = plan.problem.kind == Kind.BUG
        for _ in range(count):
            same = rng.random() < 0.85
            language = plan.language if same else ("en" if plan.language == "zh" else "zh")
            who = friends[rng.choice(by_locale[language])]
            zh = language == "zh"
            pool: tuple[str, ...]
            if is_bug:
                pool = _ZH_BUG_COMMENTS if zh else _EN_BUG_COMMENTS
            else:
                pool = _ZH_IDEA_COMMENTS if zh else _EN_IDEA_COMMENTS
            text = rng.choice(pool).format(
                d=rng.choices(_DEVICES, weights=_DEVICE_WEIGHTS)[0],
                b=plan.build or _BUILDS[-1][0],
            )
            planned.append((_spread(rng, plan.created_at, now, 30), plan, who, text))
        if not plan.original and rng.random() < 0.6:
            zh = plan.language == "zh"
            who = friends[rng.choice(by_locale[plan.language])]
            text = rng.choice(_ZH_DUPE_COMMENTS if zh else _EN_DUPE_COMMENTS).format(
                o=first_of[plan.group].post_id
            )
            planned.append((_spread(rng, plan.created_at, now, 20), plan, who, text))
        if plan.original and (plan.path or rng.random() < 0.1) and rng.random() < 0.6:
            zh = plan.language == "zh"
            area_en, area_zh = plan.problem.area
            text = rng.choice(_ZH_TEAM_COMMENTS if zh else _EN_TEAM_COMMENTS).format(
                area=area_zh if zh else area_en
            )
            team = team_zh if zh else team_en
            planned.append((_spread(rng, plan.created_at, now, 24), plan, team, text))
    planned.sort(key=lambda item: item[0])
    for done, (when, plan, who, text) in enumerate(planned, start=1):
        community.add_comment(session, author=who, post_id=plan.post_id, body=text, created_at=when)
        tick("comments", done, len(planned), every=50)


def _summary(session: Session) -> DemoSummary:
    friend_filter = User.role == Role.FRIEND.value
    friends = session.scalar(select(func.count()).select_from(User).where(friend_filter)) or 0
    countries = session.scalar(select(func.count(func.distinct(User.country))).where(friend_filter))
    languages = {
        language: int(count)
        for language, count in session.execute(
            select(Post.language, func.count()).group_by(Post.language)
        )
    }
    statuses = {
        status: int(count)
        for status, count in session.execute(
            select(Post.status, func.count()).group_by(Post.status)
        )
    }
    merged = session.scalar(
        select(func.count()).select_from(Merge).where(Merge.undone_at.is_(None))
    )
    return DemoSummary(
        friends=int(friends),
        countries=int(countries or 0),
        posts=sum(languages.values()),
        posts_by_language={k: int(v) for k, v in sorted(languages.items())},
        votes=int(session.scalar(select(func.count()).select_from(Vote)) or 0),
        comments=int(session.scalar(select(func.count()).select_from(Comment)) or 0),
        statuses={s.value: int(statuses.get(s.value, 0)) for s in Status},
        duplicates_merged=int(merged or 0),
        logins=list(DEMO_LOGINS),
    )
