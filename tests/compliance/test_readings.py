"""Other readings of non-Latin name parts, and comparison by sound across scripts."""

from bourse.compliance.sanctions.matching import OPERATING_THRESHOLD, name_score, prepare, tokens
from bourse.compliance.sanctions.matching.readings import (
    hanja_reading,
    initial_sound_law,
    is_pinyin,
    letter_name_reading,
    other_readings,
    sound_key,
)

PUTIN = "Vladimir Vladimirovich Putin"


def test_khmer_and_myanmar_spelled_from_letter_names() -> None:
    # VO, COENG, LO, AA, DO, II, MO, IE, RO: the coeng removes VO's vowel, the final RO has none.
    assert letter_name_reading("វ៉្លាឌីមៀរ") == "vlaadiimier"
    assert letter_name_reading("ពូទីន") == "puutiin"
    # PA, UU, TA, NGA, ASAT: the asat closes the syllable.
    assert letter_name_reading("ပူတင်") == "puutang"
    assert letter_name_reading("Putin") == ""


def test_khmer_names_get_parts() -> None:
    # No ICU transliterator reads Khmer: before, these names had no parts at all.
    assert tokens(prepare("ប៉ុល ពត")) == ("bul", "pot")
    assert name_score("ប៉ុល ពត", "Pol Pot").score >= 0.9


def test_abugida_tokens_keep_their_vowel_signs() -> None:
    # rigour's tokenizer drops combining marks: पुतिन became पतिन ("patina").
    assert tokens(prepare("व्लादीमीर पुतिन")) == ("vladimira", "putina")
    # Otherwise its tokens stand: periods join ("K.C."), hyphens split.
    assert tokens(prepare("कमला के.सी.")) == ("kamala", "kesi")
    assert tokens(prepare("प्रसाद-मित्रा")) == ("prasada", "mitra")


def test_korean_reading_of_hanja() -> None:
    assert hanja_reading("金正恩") == "김정은"
    assert hanja_reading("习近平") == "습근평"  # simplified characters, read as traditional
    assert hanja_reading("Kim") == ""
    assert initial_sound_law("리명") == "이명"  # 李: Ri in the North, Lee in the South
    assert initial_sound_law("로무현") == "노무현"
    assert initial_sound_law("김") == "김"
    assert other_readings("金正恩", {"Han"}) == (("gimjeongeun", True),)
    assert other_readings("李明博", {"Han"}) == (("limyeongbag", True), ("imyeongbag", True))
    # One or two characters: a Korean reading mostly coincides with another character's pinyin.
    assert other_readings("梁", {"Han"}) == ()
    assert other_readings("Putin", set()) == ()


def test_han_name_matches_by_its_korean_reading() -> None:
    part = prepare("金正恩").parts[0]
    assert part.text == "jinzhengen"  # pinyin stays the part's own text (and index key)
    assert [r.text for r in part.readings] == ["gimjeongeun"]
    m = name_score("金正恩", "Kim Jong Un")
    assert m.score >= 0.8
    assert "read gimjeongeun" in m.explanation
    # Without the reading the same name scored 0.53: the pinyin alone is far from "kimjongun".
    assert name_score("金正恩", "Xi Jinping").score < 0.5


def test_sound_keys() -> None:
    assert sound_key("vladimir") == sound_key("fulajimier") == "bltml"
    assert sound_key("putin") == sound_key("puchin") == sound_key("pujing") == "btn"
    assert sound_key("barack") == sound_key("beilake")
    assert sound_key("merkel") != sound_key("putin")


def test_transcriptions_match_by_sound_but_never_as_evidence() -> None:
    for name in ("ウラジーミル・プーチン", "弗拉基米尔·普京"):
        m = name_score(name, PUTIN)
        assert m.score >= OPERATING_THRESHOLD, (name, m)
        assert "by sound" in m.explanation
        assert m.evidence is not None and m.evidence.close == 0  # the screener wants more


def test_sound_only_across_scripts_and_only_with_enough_consonants() -> None:
    # The same letters in Latin script are a misspelling, not a transcription.
    assert name_score("Fulajimier Pujing", "Vladimir Putin").score < OPERATING_THRESHOLD
    # 陈 "chen" and Zhang sound alike in coarse classes ("tn"): too short to say anything.
    assert name_score("陈", "Zhang").score == 0.0
    assert name_score("普京", "Merkel").score < 0.3
    # One part alike by sound ("junseo"/"jonas": "tns") is chance, not a transcription.
    assert name_score("준서", "Jonas").score < 0.5


def test_no_sound_against_pinyin() -> None:
    assert is_pinyin("dandong") and is_pinyin("chunxian") and is_pinyin("xian")
    assert not is_pinyin("putin") and not is_pinyin("vladimir") and not is_pinyin("")
    # 田中 太郎 (Tanaka Taro) read in pinyin sounds like Dandong Dalian ("tntn", "tln"); a
    # Chinese name in Latin letters is its pinyin, so only spellings are compared.
    m = name_score("田中 太郎", "Dandong Dalian")
    assert "by sound" not in m.explanation
    assert m.score < 0.5
