"""Deterministic, realistic feed documents for the benchmarks (bench/poll_cycle.py, stages.py).

`Corpus(feeds, items)` makes `feeds` documents of `items` entries each: headlines and HTML
summaries of about 1.3 KB (`<p>`, `<a href>`, `<b>`, `&amp;` and `&nbsp;` entities), RSS 2.0
with escaped HTML or CDATA, and Atom. Most items are unrelated world news. About 4 % are
reports the seed rules should match (Russia–North Korea arms, Quad statements on North
Korea, China–South Korea meetings; several phrasings, some in Russian, Korean, Chinese,
Japanese, German, French or Spanish), about 10 % name one of those states (or both, in a
non-military context) without a match, and about 10 % are lightly edited copies of a story
another feed also carries, so that story grouping has work. All text is written here.

The same `seed` always gives the same documents; only the dates follow `base` (the time
the corpus is made for), so the items are always of the last two days.
"""

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

Kind = str  # "match" | "near" | "news"

PLACES = (
    "Brazil", "Kenya", "Germany", "France", "Canada", "Mexico", "Nigeria", "Indonesia", "Spain",
    "Italy", "Poland", "Egypt", "Argentina", "Chile", "Peru", "Ghana", "Norway", "Sweden",
    "Portugal", "Morocco", "Turkey", "Greece", "Thailand", "Malaysia", "Colombia", "Ethiopia",
    "Austria", "Ireland", "Finland", "Senegal", "Bolivia", "Ecuador", "Tunisia", "Denmark",
)  # fmt: skip
CITIES = (
    "Lagos", "Lima", "Madrid", "Nairobi", "Oslo", "Lisbon", "Cairo", "Bogota", "Athens",
    "Bangkok", "Vienna", "Dublin", "Helsinki", "Dakar", "Quito", "Tunis", "Rabat", "Accra",
    "Santiago", "Warsaw", "Rome", "Berlin", "Paris", "Ottawa", "Jakarta", "Stockholm",
)  # fmt: skip
NEWS_HEADLINES = (
    "{place}'s central bank holds interest rates at {n}% as inflation cools",
    "Floods displace {n},000 people in northern {place}",
    "{place} heads to the polls in a tight parliamentary election",
    "Port workers in {city} strike over pay for a {nth} day",
    "{place} unveils a {n} billion plan to modernise its railways",
    "Wildfires force evacuations near {city} as temperatures soar",
    "{city} marathon draws a record {n},000 runners",
    "Tech start-ups in {city} raise {n} million in a busy quarter",
    "{place} and {place2} sign a deal on renewable energy grids",
    "Farmers in {place} protest against cheaper imports",
    "{city} opens its new metro line after {n} years of works",
    "Drought pushes food prices up across {place}",
    "{place}'s prime minister reshuffles the cabinet",
    "Museum in {city} returns {n} artefacts to {place2}",
    "{place} beats {place2} {n}-1 in a friendly match",
    "Heatwave strains the power grid in {place}",
    "Unemployment in {place} falls to {n}.{m}%",
    "{city} hosts a summit on ocean plastics",
    "Airline strike grounds flights across {place}",
    "{place} reports its strongest tourism season in {n} years",
)  # fmt: skip
NEWS_SENTENCES = (
    "Officials in {city} said the measures would take effect next month.",
    "Analysts expect the figures to be revised when the full data is published.",
    "The ministry said {n} regions had been affected, most of them rural.",
    "Opposition leaders called the decision rushed and demanded a debate in parliament.",
    "Local businesses welcomed the news, although some warned of higher costs.",
    "The announcement came after weeks of disputes between unions and employers.",
    "Residents told reporters they had waited years for the project to be finished.",
    "The agency said it would publish a detailed report by the end of the year.",
    "Prices for fuel, bread and rice have risen sharply since the spring.",
    "Inspectors are checking the damaged roads and bridges before they reopen.",
    "The company said demand had been stronger than expected in the second half.",
    "Police said the protest had been peaceful and that no arrests were made.",
    "Forecasters warned that such events are becoming more frequent and more severe.",
    "Investors reacted calmly, and the currency barely moved in early trading.",
    "A spokesperson for the mayor said more buses would run during the works.",
    "The government has promised compensation for families who lost their homes.",
    "Turnout was higher than at the last vote, according to the electoral commission.",
    "The deal still needs the approval of both parliaments before it can be signed.",
    "Hospitals in {city} reported a rise in admissions during the hottest days.",
    "Critics say the plan does little for the poorest households in {place}.",
)  # fmt: skip
NEAR_HEADLINES = (
    "Russia's central bank raises its key rate to {n}%",
    "South Korea's chip exports rise for a {nth} month",
    "China's factory activity slows as orders fall",
    "North Korea fires a ballistic missile into the sea, Japan says",
    "Japan's prime minister promises a budget for families",
    "India's monsoon rains arrive early in the south",
    "Australia's wildfire season starts weeks ahead of schedule",
    "Russian tourists flock to a North Korean beach resort at Wonsan",
    "South Korea and China agree to expand trade in farm goods",
    "Moscow hosts a North Korean folk dance troupe for a week of concerts",
    "United States announces new visa rules for students",
    "Chinese tourists return to Seoul's shopping streets",
    "Kremlin says Russian economy grew {n}.{m}% last year",
    "Pyongyang marathon reopens to foreign amateur runners",
)  # fmt: skip
# bodies of items that name a state without a match: no evidence words in them
QUIET_SENTENCES = (
    "The move was expected by most observers before the announcement.",
    "Officials said the numbers were in line with the forecast published in spring.",
    "The report was read out on the evening news bulletin.",
    "The organisers said tickets sold out within hours of going on sale.",
    "Local newspapers gave the story a prominent place on their front pages.",
    "Residents interviewed in the capital said they had followed the news closely.",
    "The weather is expected to stay mild for the rest of the week.",
    "A fuller account is due to be published later this month.",
    "Commentators on television said the decision came as no surprise.",
    "The office of the mayor did not answer questions about the timetable.",
)  # fmt: skip
# more lines for the reports the rules match, by language (evidence-free, like the above)
QUIET_FOREIGN = {
    "ru": ("Подробности пока не сообщаются.", "Официальные лица отказались от комментариев.",
           "Ранее об этом писали местные газеты."),
    "ko": ("자세한 내용은 알려지지 않았다.", "관계자들은 논평을 거부했다.",
           "현지 언론이 먼저 이 소식을 전했다."),
    "zh": ("具体细节尚未公布。", "有关官员拒绝置评。", "当地媒体此前报道了这一消息。"),
    "ja": ("詳細は明らかにされていない。", "関係者はコメントを控えた。",
           "地元紙が先に報じていた。"),
    "de": ("Einzelheiten wurden zunächst nicht bekannt.", "Offizielle Stellen äußerten sich nicht.",
           "Lokale Zeitungen hatten zuerst darüber berichtet."),
    "fr": ("Aucun détail n'a été donné pour l'instant.", "Les responsables n'ont pas commenté.",
           "La presse locale avait d'abord rapporté la nouvelle."),
    "es": ("No se dieron más detalles por ahora.", "Los responsables no hicieron comentarios.",
           "La prensa local había informado primero de la noticia."),
}  # fmt: skip
# (headline, first sentence of the body, language) for each rule the items should match
MATCH_REPORTS = (
    # ru-dprk-arms
    ("North Korea sent {n},000 containers of artillery shells to Russia, Seoul says",
     "South Korean intelligence said the shipments had left by rail and by sea.", "en"),
    ("Pyongyang supplies Moscow with short-range ballistic missiles, officials say",
     "The missiles were used in strikes on Ukrainian cities, the officials added.", "en"),
    ("Russia and North Korea deepen military cooperation under their new defence treaty",
     "The two governments agreed to hold joint exercises next year.", "en"),
    ("North Korean troops deployed to Russia's Kursk region, Kyiv says",
     "Ukraine's military intelligence said about {n},000 soldiers had arrived.", "en"),
    ("Moscow is helping Pyongyang with satellite technology, analysts say",
     "The launch site was upgraded with Russian help, according to the report.", "en"),
    ("КНДР передала России новую партию артиллерийских снарядов",
     "Об этом сообщила южнокорейская разведка.", "ru"),
    ("북한, 러시아에 탄도미사일 추가 공급", "국가정보원은 이같이 밝혔다.", "ko"),
    ("朝鲜向俄罗斯运送大批炮弹", "韩国情报机构称。", "zh"),
    ("Nordkorea schickt weitere Soldaten nach Russland", "Das meldet der Geheimdienst.", "de"),
    ("La Corée du Nord a livré des obus d'artillerie à la Russie",
     "Selon les services de renseignement sud-coréens.", "fr"),
    # quad-dprk-statement
    ("Quad foreign ministers condemn North Korea's latest missile launch",
     "In a joint statement the four ministers called the launch a threat to the region.", "en"),
    ("Quad leaders urge North Korea to abandon its nuclear weapons programme",
     "The leaders met on the sidelines of the regional summit.", "en"),
    ("The United States, Japan, India and Australia jointly condemned North Korea's missile tests",
     "The four governments issued the statement after the {nth} launch this year.", "en"),
    ("日米豪印外相、北朝鮮の弾道ミサイル発射を非難", "共同声明を発表した。", "ja"),
    ("쿼드 정상, 북한 핵 개발 규탄 공동성명", "정상들은 공동성명을 발표했다.", "ko"),
    # cn-rok-meeting
    ("Chinese and South Korean foreign ministers hold talks in Beijing",
     "The two ministers discussed trade, tourism and the situation on the peninsula.", "en"),
    ("South Korea's president meets the Chinese premier at a regional summit",
     "It was their first meeting since the new government took office.", "en"),
    ("China and South Korea hold their first defence talks in {n} years",
     "Officials from both countries met in Seoul for two days.", "en"),
    ("中韩外长在北京举行会谈", "双方就双边关系交换了意见。", "zh"),
    ("한중 외교장관, 서울에서 회담", "양국 장관은 협력 확대에 합의했다.", "ko"),
    ("China y Corea del Sur celebran una reunión de ministros en Pekín",
     "Los ministros hablaron de comercio y de seguridad.", "es"),
)  # fmt: skip
ANCHORS = ("full report", "read more", "live updates", "analysis", "background", "photos")
OUTLETS = ("Wire Service", "Daily Ledger", "Evening Post", "Morning Herald", "News Agency")
ORDINALS = ("second", "third", "fourth", "fifth", "sixth", "seventh")
COPY_RATE = 0.10  # share of items that are copies of a story another feed carries
MATCH_RATE = 0.03  # share of original items that report what a rule matches
NEAR_RATE = 0.10  # share of original items that name a rule's state without a match
POOL_MATCH_RATE = 0.15  # share of copied stories that a rule matches


@dataclass(frozen=True, slots=True)
class Story:
    kind: Kind
    title: str
    paragraphs: tuple[str, ...]  # HTML
    language: str


@dataclass(frozen=True, slots=True)
class GenItem:
    feed: int
    index: int
    kind: Kind
    story: int | None  # the copied story's number, or None for an original
    title: str
    summary_html: str
    link: str
    guid: str | None
    published: datetime
    language: str


@dataclass
class Corpus:
    """`feeds` x `items` generated items and their documents."""

    feeds: int
    items: int
    seed: int = 10
    base: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        total = self.feeds * self.items
        pool = [self._story(rng, pooled=True) for _ in range(max(1, total // 30))]
        uses = [0] * len(pool)
        self.entries: list[list[GenItem]] = []
        for f in range(self.feeds):
            rows = []
            for j in range(self.items):
                copy = rng.random() < COPY_RATE
                number = rng.randrange(len(pool)) if copy else None
                if number is not None:
                    story = self._edited(pool[number], uses[number], rng)
                    uses[number] += 1
                else:
                    story = self._story(rng, pooled=False)
                if story.language != "en" and not self.undeclared(f):
                    story = self._english(rng, story.kind)
                rows.append(self._item(f, j, story, number, rng))
            self.entries.append(rows)

    # -- feeds ------------------------------------------------------------------

    @staticmethod
    def atom(feed: int) -> bool:
        return feed % 4 == 3

    @staticmethod
    def cdata(feed: int) -> bool:
        return feed % 4 == 1

    @staticmethod
    def undeclared(feed: int) -> bool:
        """Feeds without a language element: their items' languages are guessed."""
        return feed % 3 == 0

    def name(self, feed: int) -> str:
        return f"bench-{feed}"

    def document(self, feed: int) -> bytes:
        rows = self.entries[feed]
        if self.atom(feed):
            return _atom(feed, rows, self.undeclared(feed))
        return _rss(feed, rows, self.cdata(feed), self.undeclared(feed))

    def all_items(self) -> list[GenItem]:
        return [item for rows in self.entries for item in rows]

    def counts(self) -> dict[str, int]:
        items = self.all_items()
        return {
            "items": len(items),
            "match": sum(i.kind == "match" for i in items),
            "near": sum(i.kind == "near" for i in items),
            "copies": sum(i.story is not None for i in items),
            "atom_feeds": sum(self.atom(f) for f in range(self.feeds)),
            "cdata_feeds": sum(self.cdata(f) for f in range(self.feeds)),
        }

    # -- stories ----------------------------------------------------------------

    def _story(self, rng: random.Random, pooled: bool) -> Story:
        roll = rng.random()
        match_rate = POOL_MATCH_RATE if pooled else MATCH_RATE
        if roll < match_rate:
            headline, lead, language = rng.choice(MATCH_REPORTS)
            return self._build(rng, "match", headline, [lead], language)
        if roll < match_rate + NEAR_RATE:
            return self._build(rng, "near", rng.choice(NEAR_HEADLINES), [], "en")
        return self._build(rng, "news", rng.choice(NEWS_HEADLINES), [], "en")

    def _english(self, rng: random.Random, kind: Kind) -> Story:
        if kind == "match":
            headline, lead, _ = rng.choice([r for r in MATCH_REPORTS if r[2] == "en"])
            return self._build(rng, "match", headline, [lead], "en")
        return self._build(rng, kind, rng.choice(NEWS_HEADLINES), [], "en")

    def _build(
        self, rng: random.Random, kind: Kind, headline: str, lead: list[str], language: str
    ) -> Story:
        title = _fill(headline, rng)
        sentences = [_fill(s, rng) for s in lead]
        filler = QUIET_FOREIGN.get(language) or (
            QUIET_SENTENCES if kind != "news" else NEWS_SENTENCES
        )
        paragraphs: list[str] = []
        size = 0
        while size < (1250 if language in ("en", "ru", "de", "fr", "es") else 500):
            body = sentences + [_fill(rng.choice(filler), rng) for _ in range(3)]
            sentences = []
            html = " ".join(escape(s, quote=False) for s in body)
            shape = len(paragraphs) % 3
            if shape == 0:
                html = f"<b>{escape(rng.choice(CITIES))}</b>&nbsp;&mdash; {html}"
            elif shape == 1:
                slug = hashlib.sha1(html.encode()).hexdigest()[:10]
                anchor = rng.choice(ANCHORS)
                html += f' <a href="https://news.example.org/{slug}">{anchor}</a>'
            else:
                html += f" Reporting by {rng.choice(OUTLETS)} &amp; staff."
            paragraphs.append(f"<p>{html}</p>")
            size += len(paragraphs[-1])
        return Story(kind, title, tuple(paragraphs), language)

    def _edited(self, story: Story, copy: int, rng: random.Random) -> Story:
        """A lightly edited copy: another outlet's byline, a word changed, a line dropped."""
        title = story.title
        if copy % 2 == 1:
            title = title.replace(" says", " said").replace(" hold ", " held ")
        paragraphs = list(story.paragraphs)
        if copy % 3 == 2 and len(paragraphs) > 3:
            paragraphs.pop()
        paragraphs[-1] = paragraphs[-1].replace(
            "</p>", f" Additional reporting by {OUTLETS[copy % len(OUTLETS)]}.</p>"
        )
        return Story(story.kind, title, tuple(paragraphs), story.language)

    def _item(
        self, feed: int, index: int, story: Story, number: int | None, rng: random.Random
    ) -> GenItem:
        published = self.base - timedelta(minutes=30 + index * 90 + rng.randrange(60))
        slug = f"{feed}-{index}"
        link = f"https://outlet{feed % 97}.example.com/news/{slug}?utm_source=rss&ref=feed"
        return GenItem(
            feed=feed,
            index=index,
            kind=story.kind,
            story=number,
            title=story.title,
            summary_html="".join(story.paragraphs),
            link=link,
            guid=None if feed % 7 == 0 else f"urn:bench:{feed}:{index}",
            published=published,
            language=story.language,
        )


def _fill(template: str, rng: random.Random) -> str:
    place, place2 = rng.sample(PLACES, 2)
    return template.format(
        place=place,
        place2=place2,
        city=rng.choice(CITIES),
        n=rng.randrange(2, 60),
        m=rng.randrange(10),
        nth=rng.choice(ORDINALS),
    )


def _rss(feed: int, rows: Sequence[GenItem], cdata: bool, undeclared: bool) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Bench outlet {feed}</title><link>https://outlet{feed % 97}.example.com/</link>"
        "<description>World news</description>" + ("" if undeclared else "<language>en</language>")
    ]
    for item in rows:
        summary = (
            f"<![CDATA[{item.summary_html}]]>" if cdata else escape(item.summary_html, quote=False)
        )
        guid = f'<guid isPermaLink="false">{item.guid}</guid>' if item.guid else ""
        parts.append(
            f"<item><title>{escape(item.title, quote=False)}</title>"
            f"<link>{escape(item.link, quote=False)}</link>{guid}"
            f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>"
            f"<dc:creator>Desk {item.index % 5}</dc:creator><category>World</category>"
            f"<description>{summary}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _atom(feed: int, rows: Sequence[GenItem], undeclared: bool) -> bytes:
    lang = "" if undeclared else ' xml:lang="en"'
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>'
        f"<title>Bench outlet {feed}</title><id>urn:bench:feed:{feed}</id>"
        f'<link href="https://outlet{feed % 97}.example.com/"/>'
        f"<updated>{rows[0].published.isoformat() if rows else '2026-01-01T00:00:00+00:00'}"
        "</updated>"
    ]
    parts.extend(
        f"<entry><title>{escape(item.title, quote=False)}</title>"
        f'<link rel="alternate" href="{escape(item.link)}"/>'
        f"<id>{escape(item.guid or item.link, quote=False)}</id>"
        f"<published>{item.published.isoformat()}</published>"
        f"<updated>{item.published.isoformat()}</updated>"
        f"<author><name>Desk {item.index % 5}</name></author>"
        f'<summary type="html">{escape(item.summary_html, quote=False)}</summary></entry>'
        for item in rows
    )
    parts.append("</feed>")
    return "".join(parts).encode()
