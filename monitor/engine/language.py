"""Which language an item is written in: the feed's word when it fits the text, else a guess.

Codes are normalised first ("en-US" → en, "zh-Hant" → zh, "mul" → unknown). The script
decides what it can on its own (Hangul is Korean, kana is Japanese, Han without kana is
Chinese); py3langid (`langmodel`) chooses among the rule set's languages of the text's
script. A declared language written in another script than the text ("en" on a Cyrillic
item of an aggregator feed) is not trusted, and the text is classified instead.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.engine.schema import Script

_UNKNOWN = frozenset({"", "mul", "und", "zxx", "mis", "xx"})
_ALIASES = {"ua": "uk", "iw": "he", "in": "id", "jp": "ja", "kr": "ko", "cn": "zh", "gr": "el"}


def normalise(code: str | None) -> str | None:
    """The bare ISO 639 code of a feed's language tag, or None when it names no language."""
    if code is None:
        return None
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    if base in _UNKNOWN or not base.isalpha():
        return None
    return _ALIASES.get(base, base)


def script_of(ch: str) -> Script | None:
    """The script of one character, or None for digits, punctuation and spaces."""
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return "kana"
    if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if not ch.isalpha():
        return None
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if code < 0x0250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_HAN = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff"
_CYRILLIC = "\u0400-\u052f"
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_SAMPLE = 400  # characters looked at: enough to tell scripts and languages apart


def _script_table() -> str:
    """For each character of the Basic Multilingual Plane (where every range above lies),
    the letter of its script among the ranges: k(ana), (han)g(ul), h(an), c(yrillic),
    l(atin), else '.'; `str.translate` maps a sample through it in one pass."""
    table = bytearray(b"." * 0x10000)
    for letter, ranges in (("l", _LATIN), ("c", _CYRILLIC), ("h", _HAN), ("g", _HANGUL)):
        for low, high in re.findall("(.)-(.)", ranges):
            table[ord(low) : ord(high) + 1] = letter.encode() * (ord(high) - ord(low) + 1)
    for low, high in re.findall("(.)-(.)", _KANA):
        table[ord(low) : ord(high) + 1] = b"k" * (ord(high) - ord(low) + 1)
    return table.decode()


_ASCII_LETTER = re.compile("[A-Za-z]")
_SCRIPTS = _script_table()  # characters beyond the table are left as they are: no range


def dominant_script(text: str) -> Script | None:
    """The script most letters of `text` are written in (kana anywhere makes it Japanese)."""
    sample = text[:_SAMPLE]
    if sample.isascii():
        return "latin" if _ASCII_LETTER.search(sample) else None
    scripts = sample.translate(_SCRIPTS)
    if "k" in scripts:
        return "kana"
    if "g" in scripts:
        return "hangul"
    counts: list[tuple[int, Script]] = [
        (scripts.count("h"), "han"),
        (scripts.count("c"), "cyrillic"),
        (scripts.count("l"), "latin"),
    ]
    best, script = max(counts, key=lambda c: c[0])
    if best:
        return script
    return "other" if any(ch.isalpha() for ch in sample) else None


@dataclass(frozen=True, slots=True)
class Detector:
    """Assigns each item the rule set's languages its text is in (one, or two when unsure)."""

    scripts: Mapping[str, Script]  # language id -> script, every language of the rule set
    detectable: frozenset[str]  # those py3langid may choose
    # script -> the detectable languages written in it, sorted (computed once)
    candidates: Mapping[Script, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_script: dict[Script, list[str]] = {}
        for lang, written in sorted(self.scripts.items()):
            if lang in self.detectable:
                by_script.setdefault(written, []).append(lang)
        object.__setattr__(self, "candidates", {k: tuple(v) for k, v in by_script.items()})

    def languages(self, text: str, declared: str | None) -> tuple[str, ...]:
        """The languages whose terms apply to `text`; `declared` is the feed's tag."""
        script = dominant_script(text)
        code = normalise(declared)
        if code is not None and (script is None or _fits(self.scripts.get(code), script)):
            return (code,)
        if script is None:
            return ()
        candidates = self.candidates.get(script, ())
        if len(candidates) <= 1:
            return candidates
        # every set this detector may ask for is built with the first (one model load)
        family = tuple(c for c in self.candidates.values() if len(c) > 1)
        # the model is imported here, not with this module: a process that never classifies
        # (the daemon's own, whose readers do) never loads it or numpy
        from monitor.engine import langmodel

        return langmodel.classify(text[:_SAMPLE], candidates, family)


def _fits(language_script: Script | None, text_script: Script) -> bool:
    # Japanese is written in kana and Han: a declared ja fits a headline of Han only
    return language_script == text_script or (language_script, text_script) == ("kana", "han")
