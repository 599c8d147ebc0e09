"""Regenerate the fixture feeds in this directory, byte for byte.

Run ``python tests/data/feeds/make_fixtures.py``.  Every file is produced from
the text below with an explicit encoding, so the odd encodings (windows-1251,
Latin-1 bytes behind a UTF-8 declaration) are reproducible.  All stories are
invented; places, teams and people are fictional.

``{PORT}`` in a fixture is replaced by the test feed server with its own port.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


def basic() -> bytes:
    """RSS 2.0 with guid/link/pubDate and HTML descriptions (CDATA and escaped)."""
    text = (
        XML_DECL
        + """<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Example Wire: World, Weather &amp; Sport</title>
    <link>https://news.example.com/</link>
    <description>Short dispatches from an imaginary newsroom.</description>
    <language>en</language>
    <lastBuildDate>Tue, 14 May 2024 09:15:00 GMT</lastBuildDate>
    <item>
      <title>Valmora and Estrel sign fisheries accord after all-night talks</title>
      <link>https://news.example.com/world/valmora-estrel-accord?utm_source=rss&amp;utm_medium=feed&amp;id=7</link>
      <guid isPermaLink="false">ew-world-20240514-001</guid>
      <pubDate>Tue, 14 May 2024 06:45:00 GMT</pubDate>
      <category>Diplomacy</category>
      <dc:creator>Desk editor</dc:creator>
      <description><![CDATA[<p>Negotiators from
<a href="https://news.example.com/tag/valmora">Valmora</a> &amp; Estrel agreed on shared
quotas for the northern shelf shortly before dawn.</p><script>alert(1)</script>
<p>Both parliaments still have to ratify the text.</p>]]></description>
    </item>
    <item>
      <title>Storm warning lifted for the upper Tarn valleys</title>
      <link>https://news.example.com/weather/tarn-warning-lifted</link>
      <guid isPermaLink="true">https://news.example.com/weather/tarn-warning-lifted</guid>
      <pubDate>Tue, 14 May 2024 11:10:00 +0200</pubDate>
      <category>Weather</category>
      <description>&lt;p&gt;Forecasters now expect &lt;b&gt;dry, mild&lt;/b&gt; days
until Thursday &amp;amp; only light winds along the coast.&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;See the
&lt;a href="https://news.example.com/weather"&gt;regional outlook&lt;/a&gt;.&lt;/p&gt;</description>
    </item>
    <item>
      <title>Harbour City edge Northgate 2-1 to reach the cup final</title>
      <link>https://news.example.com/sport/harbour-city-northgate</link>
      <guid isPermaLink="false">ew-sport-20240513-044</guid>
      <pubDate>Mon, 13 May 2024 21:30:00 GMT</pubDate>
      <category>Sport</category>
      <description><![CDATA[<p>A stoppage-time header from the captain settled a nervy
semi-final &amp; sent the home supporters into the streets.</p>
<p><a href="https://news.example.com/sport/cup">Full cup coverage</a></p>]]></description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def basic_atom() -> bytes:
    """Atom 1.0 with id/updated/published, HTML summaries and content."""
    text = (
        XML_DECL
        + """<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Example Wire (Atom edition)</title>
  <subtitle>Diplomacy, weather and sport in brief</subtitle>
  <link rel="self" type="application/atom+xml" href="https://news.example.com/atom.xml"/>
  <link rel="alternate" type="text/html" href="https://news.example.com/"/>
  <id>urn:uuid:6f0c2a44-8d1e-4b57-a3c9-2e7b91d0f5a3</id>
  <updated>2024-05-14T10:00:00Z</updated>
  <author><name>Example Wire desk</name></author>
  <entry>
    <title>Korvath summit ends without a joint statement</title>
    <link rel="alternate" type="text/html" href="https://news.example.com/world/korvath-summit"/>
    <id>tag:news.example.com,2024:world/korvath-summit</id>
    <published>2024-05-14T07:00:00Z</published>
    <updated>2024-05-14T09:30:00+02:00</updated>
    <summary type="html">&lt;p&gt;Ministers left the lakeside venue early &amp;amp; aides
said talks would resume &lt;em&gt;next month&lt;/em&gt;.&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;The two-day meeting in Korvath closed on Tuesday without
the communique both sides had promised.&lt;/p&gt;
&lt;p&gt;Officials blamed a dispute over river transit fees.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Heatwave advice issued for the southern plains</title>
    <link rel="alternate" type="text/html" href="https://news.example.com/weather/southern-heat"/>
    <id>tag:news.example.com,2024:weather/southern-heat</id>
    <published>2024-05-13T15:20:00Z</published>
    <updated>2024-05-13T15:20:00Z</updated>
    <summary type="html">&lt;p&gt;Temperatures may reach 38&amp;#176;C on Friday;
&lt;a href="https://news.example.com/weather/tips"&gt;stay hydrated&lt;/a&gt;.&lt;/p&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>The weather office
asked farmers to move livestock into shade during the afternoon.</p></div></content>
  </entry>
  <entry>
    <title>Rowing: Eastbank crew retain the river trophy</title>
    <link rel="alternate" type="text/html" href="https://news.example.com/sport/river-trophy"/>
    <id>tag:news.example.com,2024:sport/river-trophy</id>
    <published>2024-05-12T18:05:00Z</published>
    <updated>2024-05-12T19:45:00Z</updated>
    <summary type="html">&lt;p&gt;Eastbank won by two lengths in choppy water.&lt;/p&gt;</summary>
    <content type="text">Eastbank won by two lengths in choppy water,
their third title in a row.</content>
  </entry>
</feed>
"""
    )
    return text.encode("utf-8")


def nokeys() -> bytes:
    """RSS items with no guid, link or pubDate; the last one has only a title."""
    text = (
        XML_DECL
        + """<rss version="2.0">
  <channel>
    <title>Untagged bulletins</title>
    <link>https://bulletins.example.org/</link>
    <description>Items without any identifiers.</description>
    <item>
      <title>Ferry services resume on the western route</title>
      <description>Crossings restart at noon after two days of heavy swell.</description>
    </item>
    <item>
      <title>Trade envoys agree to meet again in the autumn</title>
      <description>Both delegations called the first round
&lt;i&gt;constructive&lt;/i&gt;.</description>
    </item>
    <item>
      <title>Local derby postponed after pitch inspection</title>
      <description>Referees ruled the ground unplayable following a night of rain.</description>
    </item>
    <item>
      <title>Frost expected overnight in the hills</title>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def malformed() -> bytes:
    """Two complete items (one with bare ``&``), then a mismatched tag and a cut-off."""
    text = (
        XML_DECL
        + """<rss version="2.0">
<channel>
<title>Regional desk (broken export)</title>
<link>https://regional.example.net/</link>
<description>A feed written by a careless template.</description>
<item>
<title>Border crossing hours extended for the summer</title>
<link>https://regional.example.net/news/border-hours</link>
<guid>regional-1001</guid>
<pubDate>Wed, 15 May 2024 08:00:00 GMT</pubDate>
<description>Checkpoints will stay open until midnight from June onwards.</description>
</item>
<item>
<title>Wind & rain warning for the coast</title>
<link>https://regional.example.net/news/coast-warning?src=rss&ref=home</link>
<guid>regional-1002</guid>
<pubDate>Wed, 15 May 2024 09:30:00 GMT</pubDate>
<description>Gusts & heavy showers are expected after dark.</description>
</item>
<image><url>https://regional.example.net/logo.png</link><title>Regional desk</image>
<copyright>Regional desk & partners</copyright>
<ite"""
    )
    return text.encode("utf-8")


def _junk(size: int) -> bytes:
    """Deterministic pseudo-random bytes."""
    out = b""
    seed = b"broken-fixture"
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return out[:size]


def broken() -> bytes:
    """A truncated start of a feed followed by binary junk; no entries at all."""
    return b"<rss><channel><title>x</ti" + _junk(512) + b"\x00\xff\xfe\x00<<>>&&;\x00"


def html_page() -> bytes:
    """An ordinary HTML home page (with a feed autodiscovery link), not a feed."""
    text = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Example Wire | Front page</title>
<link rel="alternate" type="application/rss+xml" title="Example Wire" href="/feeds/basic.xml">
<style>body { font-family: sans-serif; }</style>
</head>
<body>
<header><nav><a href="/">Home</a> | <a href="/world">World</a> |
<a href="/weather">Weather</a></nav></header>
<main>
<article>
<h2><a href="/world/valmora-estrel-accord">Valmora and Estrel sign fisheries accord</a></h2>
<p>Negotiators agreed on shared quotas &amp; a joint patrol scheme.</p>
</article>
<article>
<h2><a href="/weather/tarn-warning-lifted">Storm warning lifted</a></h2>
<p>Dry, mild days are forecast until Thursday.<br>
</article>
</main>
<script>window.dataLayer = window.dataLayer || [];</script>
<footer>&copy; 2024 Example Wire</footer>
</body>
</html>
"""
    return text.encode("utf-8")


def empty() -> bytes:
    return b""


def entity_bomb() -> bytes:
    """Billion laughs: ten nested entities, 10**9 copies of "haha" if expanded."""
    names = [f"lol{i}" for i in range(10)]
    decls = ['  <!ENTITY lol0 "haha">']
    for prev, name in itertools.pairwise(names):
        decls.append(f'  <!ENTITY {name} "{("&" + prev + ";") * 10}">')
    top = names[-1]
    text = (
        XML_DECL
        + "<!DOCTYPE rss [\n"
        + "\n".join(decls)
        + "\n]>\n"
        + f"""<rss version="2.0">
  <channel>
    <title>Expansion test &{top};</title>
    <link>https://laughs.example.org/</link>
    <description>&{top};</description>
    <item>
      <title>Laughing matter &{top};</title>
      <link>https://laughs.example.org/1</link>
      <guid isPermaLink="false">bomb-1</guid>
      <description>&{top};&{top};&{top};</description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def xxe() -> bytes:
    """External general entity pointing at a local file."""
    text = (
        XML_DECL
        + """<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0">
  <channel>
    <title>Local file probe</title>
    <link>https://probe.example.org/</link>
    <description>Should never contain anything from the local disk.</description>
    <item>
      <title>Leaked: &xxe;</title>
      <link>https://probe.example.org/1</link>
      <guid isPermaLink="false">xxe-1</guid>
      <description>Payload follows: &xxe;</description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def external_dtd() -> bytes:
    """Well-formed RSS whose DOCTYPE points at the test server's /dtd/evil.dtd."""
    text = (
        XML_DECL
        + """<!DOCTYPE rss SYSTEM "http://127.0.0.1:{PORT}/dtd/evil.dtd">
<rss version="2.0">
  <channel>
    <title>Feed with an external DTD</title>
    <link>https://dtd.example.org/</link>
    <description>Parsers must not download the DTD.</description>
    <item>
      <title>Observers arrive for the Lannmark vote</title>
      <link>https://dtd.example.org/lannmark-observers</link>
      <guid isPermaLink="false">dtd-1</guid>
      <pubDate>Thu, 16 May 2024 12:00:00 GMT</pubDate>
      <description>Forty monitors will visit polling stations on Sunday.</description>
    </item>
    <item>
      <title>Hail damages orchards near Brisk</title>
      <link>https://dtd.example.org/brisk-hail</link>
      <guid isPermaLink="false">dtd-2</guid>
      <pubDate>Thu, 16 May 2024 14:30:00 GMT</pubDate>
      <description>Growers say a third of the cherry crop was lost.</description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def cp1251() -> bytes:
    """Russian RSS encoded as windows-1251 (declared in the XML prolog)."""
    text = """<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0">
  <channel>
    <title>Вестник Северной долины</title>
    <link>https://vestnik.example.ru/</link>
    <description>Дипломатия, погода и спорт — коротко</description>
    <language>ru</language>
    <item>
      <title>Послы двух стран обсудили новый торговый маршрут</title>
      <link>https://vestnik.example.ru/news/101</link>
      <guid isPermaLink="false">vestnik-101</guid>
      <pubDate>Fri, 17 May 2024 07:00:00 +0300</pubDate>
      <description>Переговоры прошли спокойно; следующая встреча назначена на июнь.</description>
    </item>
    <item>
      <title>Синоптики обещают тёплые выходные</title>
      <link>https://vestnik.example.ru/news/102</link>
      <guid isPermaLink="false">vestnik-102</guid>
      <pubDate>Fri, 17 May 2024 09:15:00 +0300</pubDate>
      <description>Днём воздух прогреется до двадцати градусов, ночью возможен туман.</description>
    </item>
    <item>
      <title>«Речники» выиграли домашний матч со счётом 3:0</title>
      <link>https://vestnik.example.ru/news/103</link>
      <guid isPermaLink="false">vestnik-103</guid>
      <pubDate>Thu, 16 May 2024 22:40:00 +0300</pubDate>
      <description>Тренер похвалил защиту и пообещал ротацию в кубке (№ 2 в сезоне).</description>
    </item>
  </channel>
</rss>
"""
    return text.encode("windows-1251")


def latin1_as_utf8() -> bytes:
    """Declares UTF-8, but the bytes are ISO-8859-1 (é is a lone 0xE9)."""
    text = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Le Courrier du Plateau</title>
    <link>https://courrier.example.fr/</link>
    <description>Actualités régionales</description>
    <language>fr</language>
    <item>
      <title>Météo : journée ensoleillée prévue à Valbrune</title>
      <link>https://courrier.example.fr/meteo/valbrune</link>
      <guid isPermaLink="false">courrier-1</guid>
      <pubDate>Sat, 18 May 2024 06:30:00 +0200</pubDate>
      <description>Après la pluie, le thermomètre grimpera jusqu'à 24 °C.</description>
    </item>
    <item>
      <title>Délégués réunis à Genève pour un accord sur l'eau</title>
      <link>https://courrier.example.fr/monde/accord-eau</link>
      <guid isPermaLink="false">courrier-2</guid>
      <pubDate>Sat, 18 May 2024 10:00:00 +0200</pubDate>
      <description>Les négociations reprendront lundi, a précisé le médiateur.</description>
    </item>
  </channel>
</rss>
"""
    return text.encode("iso-8859-1")


def multilang() -> bytes:
    """Korean, Chinese, Japanese and Russian items; full-width forms and a ligature."""
    text = (
        XML_DECL
        + """<rss version="2.0">
  <channel>
    <title>아시아 뉴스 모음</title>
    <link>https://multi.example.org/</link>
    <description>여러 언어로 된 짧은 소식</description>
    <language>ko</language>
    <item>
      <title>두 나라 외교관들이 새 협정에 서명했다</title>
      <link>https://multi.example.org/ko/1</link>
      <guid isPermaLink="false">multi-ko-1</guid>
      <pubDate>Sun, 19 May 2024 03:00:00 GMT</pubDate>
      <description>회담은 예정보다 한 시간 늦게 끝났다.
결승전(ﬁnal) 일정도 논의됐다. 낮 기온은 ２５℃ 안팎.</description>
    </item>
    <item>
      <title>北方地区明天有大风降温</title>
      <link>https://multi.example.org/zh/2</link>
      <guid isPermaLink="false">multi-zh-2</guid>
      <pubDate>Sun, 19 May 2024 04:00:00 GMT</pubDate>
      <description>气象台提醒市民注意保暖，阵风可达７级！</description>
    </item>
    <item>
      <title>港町チームが延長戦の末に勝利</title>
      <link>https://multi.example.org/ja/3</link>
      <guid isPermaLink="false">multi-ja-3</guid>
      <pubDate>Sun, 19 May 2024 05:00:00 GMT</pubDate>
      <description>ｻｯｶｰの決勝は来週の土曜日に行われる。ＡＢＣ放送が中継する。</description>
    </item>
    <item>
      <title>Делегации согласовали повестку встречи</title>
      <link>https://multi.example.org/ru/4</link>
      <guid isPermaLink="false">multi-ru-4</guid>
      <pubDate>Sun, 19 May 2024 06:00:00 GMT</pubDate>
      <description>Следующий раунд переговоров пройдёт осенью.</description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


def future_date() -> bytes:
    """One item dated 2099, one with a date string no parser understands."""
    text = (
        XML_DECL
        + """<rss version="2.0">
  <channel>
    <title>Odd dates</title>
    <link>https://dates.example.org/</link>
    <description>Timestamps that should not be trusted.</description>
    <item>
      <title>Centenary treaty review scheduled</title>
      <link>https://dates.example.org/treaty-review</link>
      <guid isPermaLink="false">dates-2099</guid>
      <pubDate>Thu, 01 Jan 2099 09:00:00 GMT</pubDate>
      <description>A clerk typed the wrong century into the CMS.</description>
    </item>
    <item>
      <title>Snow possible on the pass</title>
      <link>https://dates.example.org/snow-pass</link>
      <guid isPermaLink="false">dates-garbled</guid>
      <pubDate>sometime after the thaw, probably a Tuesday</pubDate>
      <description>The date field of this item is free text.</description>
    </item>
  </channel>
</rss>
"""
    )
    return text.encode("utf-8")


FIXTURES: dict[str, Callable[[], bytes]] = {
    "basic.xml": basic,
    "basic-atom.xml": basic_atom,
    "nokeys.xml": nokeys,
    "malformed.xml": malformed,
    "broken.xml": broken,
    "html-page.xml": html_page,
    "empty.xml": empty,
    "entity-bomb.xml": entity_bomb,
    "xxe.xml": xxe,
    "external-dtd.xml": external_dtd,
    "cp1251.xml": cp1251,
    "latin1-as-utf8.xml": latin1_as_utf8,
    "multilang.xml": multilang,
    "future-date.xml": future_date,
}


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else HERE
    target.mkdir(parents=True, exist_ok=True)
    for name, build in FIXTURES.items():
        (target / name).write_bytes(build())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
