"""Fictional-but-realistic names: cities, departments, hostnames, region codes."""
from __future__ import annotations

# (hanzi, pinyin, province code). Real-sounding names; the agencies built from them are fictional.
CITIES: list[tuple[str, str, int]] = [
    ("青川", "qingchuan", 51), ("云溪", "yunxi", 53), ("临江", "linjiang", 22), ("安平", "anping", 13),
    ("白河", "baihe", 61), ("长宁", "changning", 51), ("东阳", "dongyang", 33), ("丰城", "fengcheng", 36),
    ("广陵", "guangling", 32), ("海宁", "haining", 33), ("和顺", "heshun", 14), ("华亭", "huating", 62),
    ("嘉禾", "jiahe", 43), ("江阴", "jiangyin", 32), ("金溪", "jinxi", 36), ("靖安", "jingan", 36),
    ("乐平", "leping", 36), ("丽水", "lishui", 33), ("龙泉", "longquan", 33), ("罗源", "luoyuan", 35),
    ("梅河", "meihe", 22), ("南漳", "nanzhang", 42), ("宁海", "ninghai", 33), ("平江", "pingjiang", 43),
    ("蒲城", "pucheng", 61), ("启东", "qidong", 32), ("清河", "qinghe", 13), ("庆元", "qingyuan", 33),
    ("瑞昌", "ruichang", 36), ("三台", "santai", 51), ("上杭", "shanghang", 35), ("寿宁", "shouning", 35),
    ("双流", "shuangliu", 51), ("泰和", "taihe", 36), ("桐庐", "tonglu", 33), ("万安", "wanan", 36),
    ("武平", "wuping", 35), ("仙居", "xianju", 33), ("新会", "xinhui", 44), ("兴宁", "xingning", 44),
    ("阳春", "yangchun", 44), ("宜良", "yiliang", 53), ("永定", "yongding", 35), ("玉山", "yushan", 36),
    ("云和", "yunhe", 33), ("长汀", "changting", 35), ("漳浦", "zhangpu", 35), ("昭平", "zhaoping", 45),
    ("柘城", "zhecheng", 41), ("中牟", "zhongmou", 41), ("紫阳", "ziyang", 61), ("博罗", "boluo", 44),
    ("德清", "deqing", 33), ("大埔", "dabu", 44), ("惠东", "huidong", 44), ("蕉岭", "jiaoling", 44),
    ("连平", "lianping", 44), ("陆河", "luhe", 44), ("平和", "pinghe", 35), ("仁化", "renhua", 44),
]

# (name after the place, host label, is the people's government)
DEPARTMENTS: list[tuple[str, str]] = [
    ("人民政府", "www"), ("商务局", "swj"), ("财政局", "czj"), ("教育局", "jyj"),
    ("市场监督管理局", "scjgj"), ("生态环境局", "sthjj"), ("发展和改革委员会", "fgw"),
    ("卫生健康委员会", "wjw"), ("住房和城乡建设局", "zjj"), ("交通运输局", "jtj"),
    ("自然资源和规划局", "zrzyj"), ("农业农村局", "nyncj"), ("民政局", "mzj"),
    ("人力资源和社会保障局", "rsj"), ("司法局", "sfj"), ("统计局", "tjj"), ("审计局", "sjj"),
    ("文化广电旅游局", "wglj"), ("水利局", "slj"), ("应急管理局", "yjglj"), ("医疗保障局", "ybj"),
    ("科学技术局", "kjj"), ("退役军人事务局", "tyjrswj"), ("地方税务局", "dsj"),
]

LEVELS = ["市", "县", "区"]


def region_code(province: int, city_index: int, level: str) -> str:
    county = {"市": 0, "县": 21, "区": 2}[level] + city_index % 7
    return f"{province:02d}{city_index % 90 + 1:02d}{county:02d}"


# Simplified -> traditional for the characters our titles and agencies use (enough for the mirror).
_S2T = dict(zip(
    "开报务财监质术规划农环设计发员会卫乡运输资统审广电应医疗学军关于区县场态业书馆页纪检体龙门阳东华兴宁长庆丰汉苏闽桥湾岛云罗庐杭汀连陆仁惠岭漳阴乐丽泉蒲启寿双万武仙会阳宜紫柘牟溪顺亭禾靖梅台和黄经济贸证实践况条例这为与时间",
    "開報務財監質術規劃農環設計發員會衛鄉運輸資統審廣電應醫療學軍關於區縣場態業書館頁紀檢體龍門陽東華興寧長慶豐漢蘇閩橋灣島雲羅廬杭汀連陸仁惠嶺漳陰樂麗泉蒲啟壽雙萬武仙會陽宜紫柘牟溪順亭禾靖梅臺和黃經濟貿證實踐況條例這為與時間",
))


def to_traditional(s: str) -> str:
    return "".join(_S2T.get(c, c) for c in s)


_CN_DIGITS = "〇一二三四五六七八九"


def year_in_hanzi(year: int) -> str:
    """2018 -> 二〇一八, as traditional-script portals and some titles write it."""
    return "".join(_CN_DIGITS[int(d)] for d in str(year))
