"""Which language an item is written in: the feed's word when it fits the text, else a guess.

The only user of py3langid (its model ships inside the package; nothing is downloaded). Codes
are normalised first ("en-US" → en, "zh-Hant" → zh, "mul" → unknown). The script decides
what it can on its own (Hangul is Korean, kana is Japanese, Han without kana is Chinese);
py3langid chooses among the rule set's languages of the text's script. A declared language
written in another script than the text ("en" on a Cyrillic item of an aggregator feed) is
not trusted, and the text is classified instead.
"""

import copy
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.engine.schema import Script

_UNKNOWN = frozenset({"", "mul", "und", "zxx", "mis", "xx"})
_ALIASES = {"ua": "uk", "iw": "he", "in": "id", "jp": "ja", "kr": "ko", "cn": "zh", "gr": "el"}
# A second language is kept when the text is too short to decide: its share of the probability
# (among the candidates of the text's script) is at least this.
SECOND_GUESS = 0.2
_lock = threading.Lock()


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


_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_CYRILLIC = re.compile("[\u0400-\u052f]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_SAMPLE = 400  # characters looked at: enough to tell scripts and languages apart


def dominant_script(text: str) -> Script | None:
    """The script most letters of `text` are written in (kana anywhere makes it Japanese)."""
    sample = text[:_SAMPLE]
    if sample.isascii():
        return "latin" if _LATIN.search(sample) else None
    if _KANA.search(sample):
        return "kana"
    if _HANGUL.search(sample):
        return "hangul"
    counts: list[tuple[int, Script]] = [
        (len(_HAN.findall(sample)), "han"),
        (len(_CYRILLIC.findall(sample)), "cyrillic"),
        (len(_LATIN.findall(sample)), "latin"),
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

    def languages(self, text: str, declared: str | None) -> tuple[str, ...]:
        """The languages whose terms apply to `text`; `declared` is the feed's tag."""
        script = dominant_script(text)
        code = normalise(declared)
        if code is not None and (script is None or _fits(self.scripts.get(code), script)):
            return (code,)
        if script is None:
            return ()
        candidates = sorted(
            lang
            for lang, written in self.scripts.items()
            if written == script and lang in self.detectable
        )
        if len(candidates) <= 1:
            return tuple(candidates)
        return _classify(text[:_SAMPLE], tuple(candidates))


def _fits(language_script: Script | None, text_script: Script) -> bool:
    # Japanese is written in kana and Han: a declared ja fits a headline of Han only
    return language_script == text_script or (language_script, text_script) == ("kana", "han")


@cache
def _model() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def _identifier(candidates: tuple[str, ...]) -> Any:
    with _lock:
        identifier = copy.copy(_model())
        known = [c for c in candidates if c in set(identifier.nb_classes)]
        identifier.set_languages(known)
    return identifier


def _classify(text: str, candidates: tuple[str, ...]) -> tuple[str, ...]:
    identifier = _identifier(candidates)
    if not identifier.nb_classes:
        return ()
    ranked = identifier.rank(text)
    best, best_p = ranked[0]
    if len(ranked) > 1 and ranked[1][1] >= SECOND_GUESS * (best_p + ranked[1][1]):
        return (str(best), str(ranked[1][0]))
    return (str(best),)
