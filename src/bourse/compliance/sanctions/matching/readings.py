"""Other readings of a name part in a non-Latin script, and how a romanized part sounds.

rigour (ICU underneath) gives one romanization per token, and that one can be the wrong reading
or none at all:
- Han characters are read as Mandarin pinyin, but a name in Han characters may be Korean:
  金正恩 is "jin zheng en" in pinyin and "gim jeong eun" (Kim Jong Un) in Korean. CLDR's Korean
  collation, which ICU ships, files every Hanja under its Hangul reading: that is the Korean
  reading here. (Japanese readings of kanji are not in ICU: 山田 stays "shantian", not Yamada.)
- Khmer has no ICU transliterator at all; Khmer and Myanmar letters, vowel signs and viramas have
  Unicode names that spell them out ("KHMER LETTER VO", "KHMER VOWEL SIGN II"), so a spelling
  is read from those names.
- A foreign name transcribed into a syllabic script keeps little more than the order of its
  consonant sounds: Putin is プーチン "puchin" in katakana and 普京 "pujing" in Chinese, Vladimir
  is 弗拉基米尔 "fulajimier". `sound_key` folds a romanization to coarse consonant classes so
  such a transcription can be compared with the Latin original.
"""

import re
import unicodedata
from functools import lru_cache

import icu
from rigour.text.translit import ascii_text

# Scripts read from their Unicode character names: abugidas whose letters carry an inherent vowel
# that a vowel sign replaces and a virama (coeng, asat) removes.
LETTER_NAME_SCRIPTS = frozenset({"Khmer", "Myanmar"})

# Marks that remove the inherent vowel of the consonant before them.
_VOWEL_KILLERS = frozenset({"coeng", "virama", "asat"})
# Marks that add a consonant after the vowel.
_CODAS = {"nikahit": "m", "anusvara": "n", "reahmuk": "h", "robat": "r"}
# "KHMER LETTER VO", "MYANMAR LETTER GREAT SA", "KHMER INDEPENDENT VOWEL QOO TYPE ONE"
_LETTER = re.compile(r"\w+ (?:LETTER|INDEPENDENT VOWEL) (?:\w+ )*?(\w+)(?: TYPE \w+)?")
_CONSONANTS = "bcdfghjklmnpqrstvwxyz"


def _onset(letter: str) -> tuple[str, str]:
    """'nga' -> ('ng', 'a'); Khmer letter names write the glottal stop as a silent 'q'."""
    letter = letter.lower().replace("q", "")
    vowel = letter.lstrip(_CONSONANTS)
    return letter[: len(letter) - len(vowel)], vowel


def letter_name_reading(token: str) -> str:
    """A Latin spelling built from the Unicode names of a Khmer or Myanmar token's characters."""
    syllables: list[list[str]] = []  # [onset, inherent vowel, vowel signs, coda]
    for ch in token:
        name = unicodedata.name(ch, "")
        letter = _LETTER.fullmatch(name)
        if letter:
            syllables.append([*_onset(letter.group(1)), "", ""])
            continue
        words = name.lower().split()
        if not syllables or len(words) < 3:
            continue
        last = words[-1]
        if words[1:3] == ["vowel", "sign"]:  # "VOWEL SIGN II", "VOWEL SIGN TALL AA"
            syllables[-1][2] += last
        elif "medial" in words:  # Myanmar medial ya/ra/wa/ha: part of the onset
            syllables[-1][0] += _onset(last)[0]
        elif last in _VOWEL_KILLERS:
            syllables[-1][1] = ""
        elif last in _CODAS:
            syllables[-1][3] += _CODAS[last]
    if len(syllables) > 1 and not syllables[-1][2]:
        syllables[-1][1] = ""  # a final bare consonant closes the word (Khmer writes no virama)
    return "".join(c + (signs or inherent) + coda for c, inherent, signs, coda in syllables)


# A Korean name in Hanja is one word of three characters or more (金正恩). A Korean reading of
# one or two characters mostly coincides with the pinyin of others (梁 "yang", 丁 "jeong"): on
# 13,730 synthetic customers in other scripts, such readings lifted 35 names above 0.70.
MIN_HANJA_NAME = 3


@lru_cache(maxsize=1)
def _hanja_table() -> dict[str, str]:
    """Hanja -> Hangul syllable, from the Korean collation's rules ("&가<<*伽佳假...")."""
    rules = icu.Collator.createInstance(icu.Locale("ko")).getRules()
    table: dict[str, str] = {}
    for anchor, chars in re.findall(r"&([\uac00-\ud7a3])<<\*?([^&<\[\]]+)", rules):
        for ch in chars:
            table.setdefault(ch, anchor)
    return table


@lru_cache(maxsize=1)
def _to_traditional() -> icu.Transliterator:
    return icu.Transliterator.createInstance("Hans-Hant")


def hanja_reading(token: str) -> str:
    """The Korean (Hangul) reading of a token of Han characters, "" if a character has none."""
    table = _hanja_table()
    if not all(ch in table for ch in token):
        # Korean writes traditional characters: 习 is filed under 習.
        token = _to_traditional().transliterate(token)
    if not token or not all(ch in table for ch in token):
        return ""
    return "".join(table[ch] for ch in token)


# Hangul syllables are (initial * 21 + medial) * 28 + final from U+AC00.
_RIEUL, _NIEUN, _IEUNG = 5, 2, 11
_I_OR_Y = frozenset({2, 3, 6, 7, 12, 17, 20})  # ya yae yeo ye yo yu i


def initial_sound_law(hangul: str) -> str:
    """South Korean reading of a name's first syllable: 李 is filed as 리 (Ri) but read 이 (Lee).

    Word-initial ㄹ becomes ㅇ before i/y and ㄴ elsewhere; initial ㄴ becomes ㅇ before i/y.
    """
    code = ord(hangul[0]) - 0xAC00 if hangul else -1
    if not 0 <= code < 11172:
        return hangul
    initial, rest = divmod(code, 588)
    medial = rest // 28
    if initial == _RIEUL:
        initial = _IEUNG if medial in _I_OR_Y else _NIEUN
    elif initial == _NIEUN and medial in _I_OR_Y:
        initial = _IEUNG
    return chr(0xAC00 + initial * 588 + rest) + hangul[1:]


def _latin(text: str) -> str:
    return "".join(ch for ch in ascii_text(text).lower() if ch.isascii() and ch.isalnum())


def other_readings(token: str, scripts: set[str]) -> tuple[tuple[str, bool], ...]:
    """(romanization, is Korean) for each reading of `token` besides rigour's own."""
    out: list[tuple[str, bool]] = []
    if scripts == {"Han"} and len(token) >= MIN_HANJA_NAME:
        hangul = hanja_reading(token)
        if hangul:
            out.append((_latin(hangul), True))
            out.append((_latin(initial_sound_law(hangul)), True))
    if scripts and scripts <= LETTER_NAME_SCRIPTS:
        out.append((letter_name_reading(token), False))
    unique: dict[str, bool] = {}
    for text, korean in out:
        if text:
            unique.setdefault(text, korean)
    return tuple(unique.items())


# Every syllable ICU's Han-Latin gives the CJK Unified Ideographs (U+4E00-U+9FA5), tones removed,
# less the interjections "m", "n" and "hm", which would let almost any spelling segment.
_PINYIN = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can
    cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
    chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den
    deng di dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei
    fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan
    guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui
    hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao
    ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei
    leng li lia lian liang liao lie lin ling liu lo long lou lu luan lue lun luo ma mai man
    mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne
    nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nue nun nuo o ou pa pai
    pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie
    qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui
    run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi
    shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan
    tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
    wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang
    yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
    zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun
    zhuo zi zong zou zu zuan zui zun zuo
"""
PINYIN_SYLLABLES = frozenset(_PINYIN.split())


@lru_cache(maxsize=65536)
def is_pinyin(text: str) -> bool:
    """Whether `text` splits into pinyin syllables: "chunxian" does, "putin" doesn't."""
    ends = {0}  # positions a run of whole syllables can end at
    for end in range(1, len(text) + 1):
        if any(text[start:end] in PINYIN_SYLLABLES for start in ends if end - start <= 6):
            ends.add(end)
    return len(text) in ends and bool(text)


# Coarse consonant classes, after the digraphs below: labials, coronal stops and affricates (a
# transcription turns "ti" into "chi" or "ji"), sibilants, velars, liquids (r/l are one sound in
# Japanese and Korean), nasals. Vowels, h, y and apostrophes are dropped.
_SOUND_DIGRAPHS = (
    ("tsch", "t"), ("tch", "t"), ("sch", "s"), ("dzh", "t"), ("ng", "n"), ("zh", "t"),
    ("ch", "t"), ("sh", "s"), ("ts", "t"), ("tz", "t"), ("dz", "t"), ("dj", "t"), ("th", "t"),
    ("dh", "t"), ("ph", "b"), ("kh", "k"), ("gh", "k"), ("ck", "k"), ("x", "ks"),
)  # fmt: skip
_SOUND_CLASSES = str.maketrans(
    "bpfvwtdjszkgqclrmn", "bbbbbtttsskkkkllmn", "aeiouyh'"
)  # fmt: skip


@lru_cache(maxsize=65536)
def sound_key(text: str) -> str:
    """'vladimir' -> 'bltml', 'fulajimier' -> 'bltml', 'puchin' / 'pujing' / 'putin' -> 'btn'."""
    text = re.sub(r"c(?=[eiy])", "s", text)
    for a, b in _SOUND_DIGRAPHS:
        text = text.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", text.translate(_SOUND_CLASSES))
