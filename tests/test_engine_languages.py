"""Languages: codes normalised, each item's language taken from its feed or detected, terms
applied only in their own language, inflected words matched by lemma, and a toy language added
from data files alone. The last part runs the shipped dictionaries on the confusions issue 8
names (each of those tests fails when terms are flattened across languages or unguarded)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import babel.localedata
import pytest

from monitor.engine.language import Detector, dominant_script, normalise
from monitor.engine.lemma import Lemmas, LemmaText, tokens
from monitor.engine.lexicon import Lexicon, Term, fold
from monitor.engine.loader import load_ruleset
from monitor.engine.match import match_item
from monitor.engine.ruleset import RuleSet
from monitor.errors import RuleError
from monitor.model import Item

ROOT = Path(__file__).resolve().parent.parent
BASIC = Path(__file__).parent / "data" / "rules" / "basic"


def _item(
    title: str, summary: str = "", language: str | None = None, day: date | None = None
) -> Item:
    day = day or date(2024, 6, 1)
    return Item(
        key="k",
        guid=None,
        link=None,
        title=title,
        summary=summary,
        author=None,
        published_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        date_source="feed",
        language=language,
    )


# --- codes and detection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-US", "en"),
        ("zh-Hant", "zh"),
        ("pt_BR", "pt"),
        ("UK", "uk"),
        ("ua", "uk"),
        ("mul", None),
        ("", None),
        (None, None),
        ("und", None),
    ],
)
def test_language_codes_are_normalised(code: str | None, expected: str | None) -> None:
    assert normalise(code) == expected


SCRIPTS = {
    "en": "latin",
    "pl": "latin",
    "de": "latin",
    "ru": "cyrillic",
    "uk": "cyrillic",
    "ko": "hangul",
    "zh": "han",
    "ja": "kana",
}
DETECTOR = Detector(scripts=SCRIPTS, detectable=frozenset(SCRIPTS))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Korea Północna wysłała kolejnych żołnierzy do Rosji, podaje wywiad", "pl"),
        ("Nordkorea schickt weitere Soldaten nach Russland, sagt der Geheimdienst", "de"),
        ("Північна Корея відправила до Росії нових солдатів, заявила розвідка", "uk"),
        ("Северная Корея отправила в Россию новых солдат, заявила разведка", "ru"),
        ("북한, 러시아에 추가 파병", "ko"),
        ("北朝鮮がロシアに追加派兵", "ja"),
        ("朝鲜向俄罗斯增派士兵", "zh"),
    ],
)
def test_an_item_without_a_feed_language_is_detected(text: str, expected: str) -> None:
    assert DETECTOR.languages(text, None)[0] == expected


def test_the_feeds_language_is_used_when_it_fits_the_text() -> None:
    # a short English-looking headline in a Polish feed stays Polish
    assert DETECTOR.languages("Kim Jong Un i Putin", "pl-PL") == ("pl",)


def test_a_declared_language_in_another_script_is_not_trusted() -> None:
    # an aggregator feed that says "en" for a Ukrainian item
    assert DETECTOR.languages("Північна Корея відправила війська до Росії", "en") == ("uk",)


def test_kana_anywhere_makes_a_text_japanese() -> None:
    assert dominant_script("北朝鮮の金正恩総書記") == "kana"
    assert dominant_script("朝鲜领导人金正恩") == "han"


# --- lemmas -------------------------------------------------------------------------------


def test_the_language_files_own_table_comes_before_the_library() -> None:
    lemmas = Lemmas("pl", {"Korei": "Korea"}, use_library=False, fold=fold)

    assert lemmas.phrase("Korei Północnej") == "korea północnej"


def test_a_lemma_stream_maps_every_lemma_back_to_the_word_as_written() -> None:
    text = "Wojska Korei, w Rosji."
    stream = LemmaText.of(text, Lemmas("pl", {}, use_library=True, fold=fold))

    assert stream.stream == " wojsko korea w rosja "
    assert [text[t.start : t.end] for t in tokens(text)] == ["Wojska", "Korei", "w", "Rosji"]


def test_an_inflected_polish_form_matches_the_dictionary_form_with_its_offsets() -> None:
    lexicon = Lexicon(
        [Term("Korea Północna", "alias", "PRK", "name", language="pl")],
        {"pl": Lemmas("pl", {}, use_library=True, fold=fold)},
    )
    text = "Żołnierze z Korei Północnej są już w Rosji"

    found = lexicon.scan(text, ("pl",))

    assert [(text[f.start : f.end], f.term.ref) for f in found] == [("Korei Północnej", "PRK")]
    assert lexicon.scan(text, ("en",)) == []  # a Polish term never applies to English text


def test_a_dictionary_form_the_library_takes_further_still_matches_its_inflections() -> None:
    # simplemma takes the noun "uzbrojenie" to the verb "uzbroić", but the genitive
    # "uzbrojenia" to "uzbrojenie": the term's own written form is a lemma too
    lexicon = Lexicon(
        [Term("uzbrojenie", "vocab", "WEAPONS", language="pl")],
        {"pl": Lemmas("pl", {}, use_library=True, fold=fold)},
    )
    text = "Kim pokazał gościom wystawę uzbrojenia"

    found = lexicon.scan(text, ("pl",))

    assert [text[f.start : f.end] for f in found] == ["uzbrojenia"]


def test_stems_and_exact_case_terms_stay_on_written_forms() -> None:
    lexicon = Lexicon(
        [Term("=Quad", "alias", "QUAD", language="pl")],
        {"pl": Lemmas("pl", {}, use_library=True, fold=fold)},
    )

    # "quadem" (by quad bike) has the lemma "quad", but "=Quad" wants exactly that case
    assert lexicon.scan("Pojechał quadem nad morze", ("pl",)) == []
    assert len(lexicon.scan("Szczyt Quad w Tokio", ("pl",))) == 1


# --- a toy language from data files alone -------------------------------------------------


TOY = """\
id: tq
name: Toy
script: latin
lemmatizer: none
detect: false
names_from: null
lemmas: {alphaq: alpha, alphaqi: alpha, betaqo: beta, shellqi: shell}
conjunctions: [qa]
clause_words: []
continuations: []
"""


def _toy(tmp_path: Path) -> RuleSet:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "languages").mkdir()
    (root / "languages" / "tq.yaml").write_text(TOY, encoding="utf-8")
    (root / "languages" / "en.yaml").write_text(
        TOY.replace("id: tq", "id: en")
        .replace("name: Toy", "name: English")
        .replace(
            "lemmas: {alphaq: alpha, alphaqi: alpha, betaqo: beta, shellqi: shell}", "lemmas: {}"
        ),
        encoding="utf-8",
    )
    for lang in ("ru", "ko", "zh"):
        script = {"ru": "cyrillic", "ko": "hangul", "zh": "han"}[lang]
        (root / "languages" / f"{lang}.yaml").write_text(
            f"id: {lang}\nname: {lang}\nscript: {script}\n", encoding="utf-8"
        )
    for actor, word in (("alpha", "alpha"), ("beta", "beta")):
        path = root / "actors" / f"{actor}.yaml"
        path.write_text(path.read_text() + "\n# toy\n", encoding="utf-8")
        text = path.read_text().replace("names:\n", f"names:\n  tq: [{word}]\n", 1)
        path.write_text(text, encoding="utf-8")
    weapons = root / "vocab" / "weapons.yaml"
    weapons.write_text(weapons.read_text() + '  tq: ["shell"]\n', encoding="utf-8")
    return load_ruleset(root, root / "seeds")


def test_a_toy_language_is_added_from_data_files_alone(tmp_path: Path) -> None:
    ruleset = _toy(tmp_path)

    matches, _ = match_item(ruleset, _item("alphaq moxi shellqi ta betaqo", language="tq"))

    assert [m.rule for m in matches] == ["alp-bet-arms"]
    words = [(e.text, e.ref) for e in matches[0].evidence]
    assert words == [("alphaq", "ALP"), ("shellqi", "WEAPONS"), ("betaqo", "BET")]
    # the toy words mean nothing in English
    assert match_item(ruleset, _item("alphaq moxi shellqi ta betaqo", language="en"))[0] == []


def test_a_language_key_without_a_language_file_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "languages").mkdir()
    (root / "languages" / "en.yaml").write_text("id: en\nname: English\nscript: latin\n")

    with pytest.raises(RuleError) as caught:
        load_ruleset(root, root / "seeds")

    messages = [p.message for p in caught.value.problems]
    assert "names.ru: unknown language 'ru' (no languages/ru.yaml)" in messages


def test_a_language_simplemma_does_not_know_cannot_ask_for_it(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "languages").mkdir()
    for lang, script in (("en", "latin"), ("ru", "cyrillic"), ("ko", "hangul"), ("zh", "han")):
        extra = "lemmatizer: simplemma\n" if lang == "ko" else ""
        (root / "languages" / f"{lang}.yaml").write_text(
            f"id: {lang}\nname: {lang}\nscript: {script}\n{extra}"
        )

    with pytest.raises(RuleError) as caught:
        load_ruleset(root, root / "seeds")

    assert any("simplemma has no dictionary for 'ko'" in p.message for p in caught.value.problems)


# --- the shipped dictionaries -------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_ruleset(ROOT / "rules", ROOT / "seeds")


def _actors(ruleset: RuleSet, item: Item) -> set[str]:
    from monitor.engine.scan import Scan

    scan = Scan(ruleset, item)
    return {h.term.ref for h in scan.hits if h.term.kind == "alias"}


@pytest.mark.parametrize(
    ("title", "language", "absent"),
    [
        ("中日ドラゴンズが開幕戦に勝利", None, "CHN"),  # Chunichi Dragons: 中日 is zh only
        ("在日朝鮮人の歴史を学ぶ", None, "PRK"),  # Koreans in Japan: 朝鮮 is zh only
        ("Rok po szczycie w Wilnie", None, "KOR"),  # Polish "rok" (year) is not the ROK
        ("England name their starting XI for the final", "en", "CHN"),
        ("Pope Pius XI and the Lateran treaty", "en", "CHN"),
        ("He holds a trump card in the talks", "en", "USA"),
        ("BTS's Suga finishes his military service", "en", "JPN"),
        ("Marquez wins the MotoGP race at Twin Ring Motegi", "en", "JPN"),
        ("Gru and the Minions return in a new film", "en", "RUS"),
        ("공사로 북측 출입구 폐쇄", None, "PRK"),  # the north side (of a building)
        ("남측 출입구 이용 안내", None, "KOR"),  # the south side
    ],
)
def test_known_confusions_are_not_actors(
    shipped: RuleSet, title: str, language: str | None, absent: str
) -> None:
    assert absent not in _actors(shipped, _item(title, language=language))


@pytest.mark.parametrize(
    ("title", "present"),
    [
        ("Xi Jinping arrives in Seoul", {"CHN", "KOR"}),
        ("Xi meets Yoon", {"CHN", "KOR"}),
        ("ГРУ и ФСБ", {"RUS"}),
        ("Trump meets Kim", {"USA"}),  # in office again from 2025-01-20
        ("Rok 2024: Korea Południowa i Chiny", {"KOR", "CHN"}),
    ],
)
def test_the_real_aliases_still_match(shipped: RuleSet, title: str, present: set[str]) -> None:
    day = date(2025, 3, 1)  # Xi, Yoon and Trump all in office

    assert present <= _actors(shipped, _item(title, day=day))


@pytest.mark.parametrize(
    ("title", "rule"),
    [
        ("Korea Północna przekazała Rosji pociski balistyczne", "ru-dprk-arms"),
        ("Nordkoreanische Soldaten kämpfen für Russland in der Region Kursk", "ru-dprk-arms"),
        ("Des soldats nord-coréens combattent aux côtés de la Russie", "ru-dprk-arms"),
        ("Rusia recibe misiles balísticos de Corea del Norte", "ru-dprk-arms"),
        ("Північнокорейські військові воюють на боці Росії", "ru-dprk-arms"),
        (
            "Ministrowie spraw zagranicznych Chin i Korei Południowej spotkali się w Pekinie",
            "cn-rok-meeting",
        ),
        ("Südkoreas Präsident trifft Chinas Regierungschef am Rande des Gipfels", "cn-rok-meeting"),
    ],
)
def test_new_languages_match_their_inflected_forms(shipped: RuleSet, title: str, rule: str) -> None:
    matches, _ = match_item(shipped, _item(title))

    assert rule in {m.rule for m in matches}


def test_country_names_come_from_cldr(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "languages").mkdir()
    for lang, script, lemmas in (
        ("en", "latin", "none"),
        ("ru", "cyrillic", "none"),
        ("ko", "hangul", "none"),
        ("zh", "han", "none"),
        ("pl", "latin", "simplemma"),
    ):
        (root / "languages" / f"{lang}.yaml").write_text(
            f"id: {lang}\nname: {lang}\nscript: {script}\nlemmatizer: {lemmas}\n"
        )
    gamma = root / "actors" / "gamma.yaml"
    gamma.write_text(
        gamma.read_text().replace("name: Gammaria\n", "name: Gammaria\nterritory: FR\n")
    )
    ruleset = load_ruleset(root, root / "seeds")

    # gamma.yaml lists no Polish name: CLDR's "Francja" is its name, and lemmas its cases
    assert "GAM" in _actors(ruleset, _item("Francja i Niemcy", language="pl"))
    assert "GAM" in _actors(ruleset, _item("Wizyta we Francji", language="pl"))
    assert "GAM" not in _actors(ruleset, _item("Francja", language="en"))
    # and the locale data the names came from is not kept (~1.5 MB per language and process)
    assert not babel.localedata._cache
    assert babel.core._global_data is None


@pytest.mark.parametrize("language", ["de", "ko", "uk", "zh"])
def test_each_countrys_cldr_name_is_babels_own(language: str) -> None:
    from monitor.engine import cldr

    theirs = {
        str(code): str(name) for code, name in babel.Locale.parse(language).territories.items()
    }
    cldr.release_locale_data()  # names read before, by another test, are read again

    assert {code: cldr.territory_name(code, language) for code in theirs} == theirs
    assert cldr.territory_name("KP", "xx-unknown") is None


def test_a_language_file_is_needed_for_every_key(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", root)
    (root / "languages" / "uk.yaml").unlink()

    with pytest.raises(RuleError) as caught:
        load_ruleset(root, ROOT / "seeds")

    assert any("unknown language 'uk'" in p.message for p in caught.value.problems)
