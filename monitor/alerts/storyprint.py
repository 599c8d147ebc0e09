"""Story fingerprints: the content words of an item's title and lead, and their MinHash.

Pure: text in, a frozen `StoryPrint` out. The words are what two items are compared on
(monitor.alerts.stories); the MinHash signature only finds candidates quickly, so it is never
stored: it is recomputed from the words.

Words are case-folded after NFKC; stop words (monitor.alerts.stopwords) are dropped; words of
alphabetic scripts are cut to their first five letters, a crude stemmer that serves every
inflecting language alike ("России"/"Россию", "Rusya'ya"/"Rusya", "Korean"/"Korea" meet;
English also loses -s, -es, -ed and -ing first, since "send" is shorter than five letters);
the few abbreviations of state names that headlines use ("DPRK", "КНДР", "N. Korea", Korean
"北") are spelled out; Korean words lose their particles and common endings; Chinese and
Japanese runs become character pairs, kana-only runs (particles) are dropped; numbers are
kept whole ("1,500", "1.500", "1천500" and "1500" are one number), since figures tell events
apart.
"""

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.alerts.stopwords import LATIN_LANGUAGES, STOP_WORDS

PREFIX = 5  # letters kept of an alphabetic word
LEAD_WORDS = 40  # the lead says what happened in its first sentences; the rest is background
ROWS, BANDS = 2, 32  # LSH: BANDS bands of ROWS hashes each (see monitor.alerts.stories)
SIGNATURE = ROWS * BANDS
_SEED = b"monitor-story-minhash-v1\x00"
_HASHES = struct.Struct(f"<{SIGNATURE}I")
_EMPTY = (0xFFFFFFFF,) * SIGNATURE

_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,\u00a0\u202f]\d{3}(?!\d))*(?:[.,]\d+)?(?:[천만억千万亿萬億]\d*(?:[.,]\d+)?)*)"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
)
_SCRIPT_RUN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<kata>[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+)"
    r"|(?P<hira>[\u3040-\u309f]+)"
    r"|(?P<hangul>[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+)"
    r"|(?P<other>[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]+)"
)
# Abbreviations of the states' names, spelled out so that "DPRK" meets "North Korea"
_ALIASES = {
    ("", "dprk"): "north korea",
    ("", "rok"): "south korea",
    ("", "prc"): "china",
    ("", "кндр"): "северная корея",
    ("uk", "кндр"): "північна корея",
    ("", "рф"): "россия",
    ("", "кнр"): "китай",
}
_KO_HANJA = {"北": "북한", "中": "중국", "美": "미국", "日": "일본", "韓": "한국", "露": "러시아"}
_KOREA_ABBREVIATION = re.compile(r"\b([ns])\.\s?(?=korea)")
_COMPASS = {"n": "north ", "s": "south "}
_SPACE_GROUPED = frozenset({"fr", "ru", "uk", "pl"})
_SPACED_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
_EA_UNITS = {"만": 10**4, "万": 10**4, "萬": 10**4, "억": 10**8, "亿": 10**8, "億": 10**8}
_EA_THOUSAND = "천千"
_EA_NUMBER = re.compile(r"(\d+(?:\.\d+)?)([천만억千万亿萬億]?)")

# Korean particles and verb endings, longest first: "북한이", "북한과", "북한은" are "북한";
# "파병했다" is "파병". A stem keeps at least two syllables, so "북한" never loses "한".
_KO_ENDINGS = tuple(
    sorted(
        """으로부터 에서부터 이라고 이라는 에서는 에서도 에서의 으로는 으로의
        에게서 까지는 부터는 했다고 했으며 하기로 하겠다고 하겠다 한다고
        했다 한다 하고 하며 하는 하기 해야 했고 하라고 하라 된다 됐다
        되는 되어 에서 에게 으로 까지 부터 라고 이라 보다 처럼 조차 에는
        에도 와의 과의 로의 이나 이며 이고 이다 였다 들 은 는 이 가 을
        를 의 에 와 과 로 도 만 께 서 한 할 된 돼""".split(),
        key=len,
        reverse=True,
    )
)
# Counters glued to a number ("1500명", "18일", "1500人", "31日") say nothing the number does not.
_COUNTERS = frozenset("명발개대일월년시분척차")
_HAN_COUNTERS = frozenset("人名日月年分時时発发枚个個次回度余多架艘号點点")
_ZH_FUNCTION = frozenset("的了")  # character pairs across these are noise, not words
_APOSTROPHE = re.compile(r"['’]")
_ELIDED = frozenset("l d j m n s t c qu jusqu lorsqu puisqu".split())


@dataclass(frozen=True, slots=True)
class StoryPrint:
    """What a story is recognised by: the content words of its title and of its lead.

    `lead` holds the lead's words that are not in the title. The MinHash `signature` is
    derived from the words on demand, never kept: a window of stories holds only words.
    """

    title: frozenset[str]
    lead: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "lead", self.lead - self.title)

    @property
    def words(self) -> frozenset[str]:
        return self.title | self.lead

    @property
    def signature(self) -> tuple[int, ...]:
        return minhash(self.words)

    def to_json(self) -> list[str]:
        """Title words, then "|", then lead words: a plain list of strings, sorted."""
        return [*sorted(self.title), "|", *sorted(self.lead)]

    @classmethod
    def from_json(cls, data: Iterable[str]) -> "StoryPrint":
        """The print `to_json` wrote. A list without "|" (an older, flat word list) is read
        as title words only."""
        words = list(data)
        cut = words.index("|") if "|" in words else len(words)
        return cls(frozenset(words[:cut]), frozenset(words[cut + 1 :]))


def fingerprint(title: str, summary: str, language: str | None) -> StoryPrint:
    """The print of an item: content words of its title and of its lead (the summary's
    first `LEAD_WORDS` content words)."""
    lang = _language(language, f"{title} {summary[:400]}")
    lead: list[str] = []
    for word in content_words(summary, lang):
        lead.append(word)
        if len(lead) >= LEAD_WORDS:
            break
    return StoryPrint(frozenset(content_words(title, lang)), frozenset(lead))


def story_words(title: str, summary: str, language: str | None) -> tuple[str, ...]:
    """The print of an item as stored with its story (`StoryPrint.to_json`): what
    `StoryFiling.fingerprint` gives, and what reader processes make for matched items."""
    return tuple(fingerprint(title, summary, language).to_json())


def content_words(text: str, language: str) -> Iterator[str]:
    """The content words of `text`, in order, as fingerprints compare them."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i")
    if language == "en":  # Korean English-language press style: "N. Korea", "S. Korean"
        folded = _KOREA_ABBREVIATION.sub(lambda m: _COMPASS[m[1]], folded)
    if language in _SPACE_GROUPED:  # "3 000 soldats", "12 000 военных"
        folded = _SPACED_THOUSANDS.sub("\u00a0", folded)
    after_number = -1
    for token in _TOKEN.finditer(folded):
        if token.group("num"):
            yield _number(token.group("num"))
            after_number = token.end()
            continue
        glued = token.start() == after_number
        for run in _SCRIPT_RUN.finditer(token.group("word")):
            yield from _run_words(run, language, glued and run.start() == 0)


def minhash(words: Iterable[str]) -> tuple[int, ...]:
    """`SIGNATURE` minimum hashes of `words`: for each of `SIGNATURE` hash functions, the
    smallest value any word takes (no words: all maximum, which nothing real matches).

    The functions are the 32-bit slices of one SHAKE-128 output per word: independent,
    pseudo-random, the same in every process (unlike `hash()`, salted per process), and one
    C call per word instead of `SIGNATURE` multiplications in Python.
    """
    rows = [
        _HASHES.unpack(hashlib.shake_128(_SEED + w.encode()).digest(_HASHES.size)) for w in words
    ]
    return tuple(map(min, zip(*rows, strict=True))) if rows else _EMPTY


def _run_words(run: re.Match[str], language: str, glued: bool) -> Iterator[str]:
    text, kind = run.group(), run.lastgroup
    if kind == "han":
        if language == "ko" and text in _KO_HANJA:  # "北 탄도미사일", "中외교부장"
            yield _KO_HANJA[text]
            return
        if glued and text[0] in _HAN_COUNTERS:
            text = text[1:]
        yield from _han_pairs(text, language)
    elif kind == "kata":
        yield text
    elif kind == "hangul":
        if glued and text.removeprefix("여")[:1] in _COUNTERS:
            return  # "1500명을", "3천여명", "18일": a counter, with its particle
        stem = _korean_stem(text)
        if text not in STOP_WORDS["ko"] and stem not in STOP_WORDS["ko"]:
            yield stem
    elif kind == "other":
        yield from _alphabetic(text, language)
    # hiragana runs are particles and endings: dropped


def _alphabetic(text: str, language: str) -> Iterator[str]:
    stops = STOP_WORDS["ru"] | STOP_WORDS["uk"] if _cyrillic(text) else STOP_WORDS[language]
    if text in stops:
        return
    alias = _ALIASES.get((language, text)) or _ALIASES.get(("", text))
    if alias is not None:
        for word in alias.split():
            yield from _alphabetic(word, language)
        return
    if language == "en":
        text = _english_stem(text)
    parts = _APOSTROPHE.split(text)
    # "l'armée" is "armée"; "Korea's", "Rusya'ya" and "Kore'nin" are their first part
    word = parts[1] if len(parts) > 1 and language == "fr" and parts[0] in _ELIDED else parts[0]
    if len(word) > 1 and word not in stops:
        yield word[:PREFIX]


def _english_stem(word: str) -> str:
    # prefixes alone keep "sends"/"send" and "fired"/"fires" apart
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]  # "shipped", "shipping": "ship"
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _korean_stem(word: str) -> str:
    for _ in range(3):
        for ending in _KO_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 2:
                word = word[: -len(ending)]
                break
        else:
            break
    return word


def _han_pairs(text: str, language: str) -> Iterator[str]:
    stops = STOP_WORDS["ja"] if language == "ja" else STOP_WORDS["zh"]
    if len(text) == 1:
        if text not in _ZH_FUNCTION and text not in stops:
            yield text
        return
    for i in range(len(text) - 1):
        pair = text[i : i + 2]
        if pair not in stops and not (_ZH_FUNCTION & set(pair)):
            yield pair


def _number(text: str) -> str:
    if any(unit in text for unit in "천만억千万亿萬億"):
        total, small = 0.0, 0.0
        for digits, unit in _EA_NUMBER.findall(re.sub(r"[,\u00a0\u202f ]", "", text)):
            value = float(digits)
            if unit in _EA_UNITS:
                total += (small + value) * _EA_UNITS[unit]
                small = 0.0
            elif unit and unit in _EA_THOUSAND:
                small += value * 1000
            else:
                small += value
        value = total + small
        return str(int(value)) if value.is_integer() else str(value)
    # "1,500" / "1.500" / "1 500" are thousands; "2,5" / "2.5" a fraction
    grouped = re.fullmatch(r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+", text)
    if grouped:
        return re.sub(r"\D", "", text)
    return text.replace(",", ".")


def _language(language: str | None, text: str) -> str:
    code = (language or "").split("-")[0].split("_")[0].casefold()
    if code in STOP_WORDS:
        return code
    # unknown: the Latin-script language whose stop words the text uses most
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return max(LATIN_LANGUAGES, key=lambda lang: sum(w in STOP_WORDS[lang] for w in words))


def _cyrillic(word: str) -> bool:
    return "\u0400" <= word[0] <= "\u04ff"
