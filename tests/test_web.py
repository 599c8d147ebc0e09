"""The dashboard through httpx's ASGI transport, on SQLite and PostgreSQL: each page from
stored data, the filters, keyset paging, the JSON the charts read, feedback changing a
rule's precision, and escaping."""

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor import store
from monitor.alerts.links import match_url
from monitor.alerts.stories import StoryFiling
from monitor.engine.match import match_item
from monitor.model import Item, Match, PollResult
from monitor.store import Database
from tests.webdata import (
    ARMS,
    NOW,
    PACT,
    SPIKE,
    SPIKE_DAY,
    Browser,
    fill,
    filled_database,
    make_app,
    make_item,
    rules,
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, Browser]]:
    """One database per backend for the tests that only read, with one more mark: an ARMS
    match rejected."""
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    folder = tmp_path_factory.mktemp("web")
    with filled_database(request.param, folder, pg_url) as (db, _):
        store.set_feedback(db, all_ids(db, rule=ARMS)[3], False, None, NOW)
        yield db, Browser(make_app(db))


@pytest.fixture
def fresh(db: Database) -> tuple[Database, Browser]:
    """A filled database of the test's own, for tests that write."""
    fill(db)
    return db, Browser(make_app(db))


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="title" href="/matches/(\d+)"', html)]


def all_ids(db: Database, **filters: object) -> list[int]:
    page = store.match_page(db, store.MatchFilter(**filters), limit=10_000)  # type: ignore[arg-type]
    return [m.id for m in page.rows]


def test_the_overview_shows_counts_charts_feeds_and_deliveries(
    filled: tuple[Database, Browser],
) -> None:
    db, browser = filled

    page = browser.get("/")

    assert page.status_code == 200
    html = page.text
    assert f'<p class="big">{len(all_ids(db))}</p>' in html
    assert 'id="chart-rules" data-series="/api/series?by=rule&amp;days=90"' in html
    assert 'id="chart-dyads"' in html
    assert "1 dead" in html and "pending</a>" in html
    assert f"<td>{SPIKE_DAY.isoformat()}</td>" in html  # the spike, listed
    assert "Every feed polled fine" in html


def test_the_chart_json_counts_stored_matches_per_day_and_marks_the_spike(
    filled: tuple[Database, Browser],
) -> None:
    db, browser = filled

    by_rule = browser.get("/api/series?by=rule&days=90").json()
    by_dyad = browser.get("/api/series?by=dyad&days=90").json()

    arms = next(s for s in by_rule["series"] if s["key"] == ARMS)
    pact = next(s for s in by_rule["series"] if s["key"] == PACT)
    assert len(by_rule["days"]) == len(arms["counts"]) == 90
    assert by_rule["days"][-1] == NOW.date().isoformat()
    assert {b - a for a, b in zip(by_rule["t"], by_rule["t"][1:], strict=False)} == {86400}
    assert arms["total"] == sum(arms["counts"]) == len(all_ids(db, rule=ARMS))
    assert pact["total"] == len(all_ids(db, rule=PACT)) > 0
    spike_index = by_rule["days"].index(SPIKE_DAY.isoformat())
    assert [s["index"] for s in arms["spikes"]] == [spike_index]
    assert arms["spikes"][0]["count"] == arms["counts"][spike_index] >= SPIKE - 3
    assert pact["spikes"] == []
    dyads = {s["key"]: s for s in by_dyad["series"]}
    assert dyads["ALP–BET"]["counts"] == arms["counts"]
    assert dyads["BET–PACT"]["total"] == pact["total"]
    assert dyads["ALP–BET"]["label"] == "ALP–BET: Alphaland – Betania"


def test_the_chart_json_can_be_narrowed_to_one_rule(filled: tuple[Database, Browser]) -> None:
    _, browser = filled

    found = browser.get(f"/api/series?days=30&key={PACT}").json()

    assert [s["key"] for s in found["series"]] == [PACT] and len(found["days"]) == 30
    assert browser.get("/api/series?days=3").status_code == 400
    assert browser.get("/api/series?by=country").json() == {
        "error": "by: 'country' is not one of rule, dyad"
    }


def test_the_matches_page_marks_the_words_and_links_story_and_source(
    filled: tuple[Database, Browser],
) -> None:
    db, browser = filled
    newest = store.match_page(db, store.MatchFilter(rule=ARMS), limit=1).rows[0]

    html = browser.get("/matches").text

    assert ids_on(html) == all_ids(db)[:50]
    row = html.split(f'href="/matches/{newest.id}"', 1)[1].split("</tr>", 1)[0]
    marked = re.findall(r"<mark>([^<]+)</mark>", row)
    assert "Betania" in marked and "Alphaland" in marked
    assert f'href="/stories/{newest.story_id}"' in row and "story: 1 outlet" in row
    assert f'href="{newest.link}" rel="noopener noreferrer nofollow"' in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"rule": PACT}, {"rule": PACT}),
        ({"level": "medium"}, {"level": "medium"}),
        ({"feed": "wire-a"}, {"feed": "wire-a"}),
        ({"language": "en"}, {"language": "en"}),
        ({"language": "ko"}, {"language": "ko"}),
        ({"feedback": "relevant"}, {"feedback": "relevant"}),
        ({"feedback": "unmarked"}, {"feedback": "unmarked"}),
        ({"rule": ARMS, "feedback": "not-relevant"}, {"rule": ARMS, "feedback": "not-relevant"}),
    ],
)
def test_each_filter_narrows_the_matches(
    filled: tuple[Database, Browser], query: dict[str, str], expected: dict[str, object]
) -> None:
    db, browser = filled

    html = browser.get("/matches?" + "&".join(f"{k}={v}" for k, v in query.items())).text

    wanted = all_ids(db, **expected)[:50]
    assert ids_on(html) == wanted
    assert len(wanted) < len(all_ids(db)) or query == {"language": "en"}


def test_the_date_filter_takes_whole_utc_days(filled: tuple[Database, Browser]) -> None:
    db, browser = filled
    day = SPIKE_DAY.isoformat()

    html = browser.get(f"/matches?rule={ARMS}&from={day}&to={day}").text

    found = ids_on(html)
    assert found and len(found) == browser.get("/api/series").json()["series"][0]["counts"][-4]
    for match_id in found:
        detail = store.match_detail(db, match_id)
        assert detail is not None and detail.match.matched_at.date() == SPIKE_DAY


def test_bad_filter_values_are_a_400_not_a_crash(filled: tuple[Database, Browser]) -> None:
    _, browser = filled

    for query in ("level=urgent", "from=yesterday", "before=abc", "before=-3", "feedback=maybe"):
        assert browser.get(f"/matches?{query}").status_code == 400, query


def test_paging_by_keyset_walks_every_match_once_newest_first(
    filled: tuple[Database, Browser],
) -> None:
    db, browser = filled
    html = browser.get("/matches").text
    seen = ids_on(html)

    while (more := re.search(r'hx-get="/matches\?([^"]+)"', html)) is not None:
        # the "older matches" link, as htmx asks for it: rows only
        html = browser.get("/matches?" + more[1].replace("&amp;", "&"), hx_request="true").text
        assert "<html" not in html
        seen += ids_on(html)

    assert seen == all_ids(db) and len(seen) > 50


def test_a_match_page_shows_evidence_story_alerts_and_its_mark(
    filled: tuple[Database, Browser],
) -> None:
    db, browser = filled
    [marked] = [m for m in store.marked_items(db) if m.relevant]

    html = browser.get(f"/matches/{marked.match_id}").text

    assert "Marked relevant" in html
    assert "<td><mark>Alphaland</mark></td><td>actor</td><td>ALP</td>" in html
    assert "Alphaland–Betania arms" in html  # the rule's title, from the live rules
    assert "<h2>Story: 1 outlet</h2>" in html
    assert '<span class="status pending">pending</span>' in html
    assert browser.get("/matches/999999").status_code == 404
    assert browser.get("/stories/999999").status_code == 404


def test_a_story_page_lists_its_outlets(db: Database) -> None:
    fill(db)
    # the same report from the other wire, an hour later: one story, two outlets
    [first] = store.match_page(db, store.MatchFilter(rule=PACT), limit=1).rows
    other = "wire-a" if first.feed == "wire-b" else "wire-b"
    later = first.matched_at + timedelta(hours=1)
    copy = make_item("copy-1", first.title, later, first.link)
    [state] = store.claim_due_feeds(db, "t", NOW, timedelta(minutes=5), 1, [other])
    matches = tuple(m for m in _matches(copy) if m.rule == PACT)
    store.save_poll(
        db,
        PollResult(
            feed_id=state.id,
            started_at=later,
            finished_at=later + timedelta(seconds=1),
            outcome="ok",
            next_poll_at=NOW,
            items=(copy,),
            matches=matches,
        ),
        "t",
        StoryFiling(),
    )
    browser = Browser(make_app(db))

    html = browser.get(f"/stories/{first.story_id}").text

    assert "2 outlets: " in html and "wire-a" in html and "wire-b" in html
    assert html.count('href="/matches/') == 2


def test_feedback_on_the_page_changes_the_rules_precision(
    fresh: tuple[Database, Browser],
) -> None:
    db, browser = fresh
    target = all_ids(db, rule=ARMS)[0]
    before = browser.get("/rules").text
    csrf = browser.csrf(f"/matches/{target}")

    answer = browser.post(
        f"/matches/{target}/feedback",
        {"csrf": csrf, "verdict": "not-relevant", "note": "an exhibition, not a transfer"},
        headers={"hx-request": "true"},
    )
    after = browser.get("/rules").text

    assert answer.status_code == 200 and "Marked not relevant" in answer.text
    assert f'id="precision-{ARMS}">100% (1 of 1)' in before
    assert f'id="precision-{ARMS}">50% (1 of 2)' in after
    mark = store.feedback_for(db, [target])[target]
    assert not mark.relevant and mark.note == "an exhibition, not a transfer"
    assert "an exhibition, not a transfer" in browser.get(f"/matches/{target}").text


def test_a_form_post_without_htmx_redirects_back_to_the_match(
    fresh: tuple[Database, Browser],
) -> None:
    db, browser = fresh
    target = all_ids(db, rule=PACT)[0]
    csrf = browser.csrf(f"/matches/{target}")

    answer = browser.post(f"/matches/{target}/feedback", {"csrf": csrf, "verdict": "relevant"})
    cleared = browser.post(f"/matches/{target}/feedback", {"csrf": csrf, "verdict": "clear"})

    assert answer.status_code == 303 and answer.headers["location"] == f"/matches/{target}"
    assert cleared.status_code == 303 and target not in store.feedback_for(db, [target])
    assert (
        browser.post("/matches/999999/feedback", {"csrf": csrf, "verdict": "relevant"}).status_code
        == 404
    )


def test_a_dead_delivery_can_be_retried_once_and_only_when_dead(db: Database) -> None:
    filled = fill(db)
    browser = Browser(make_app(db))
    csrf = browser.csrf("/alerts?status=dead")
    pending = store.delivery_page(db, status="pending", limit=1).rows[0]

    retried = browser.post(
        f"/alerts/{filled.dead_delivery}/retry", {"csrf": csrf}, headers={"hx-request": "true"}
    )
    again = browser.post(f"/alerts/{filled.dead_delivery}/retry", {"csrf": csrf})
    live = browser.post(f"/alerts/{pending.id}/retry", {"csrf": csrf})

    assert retried.status_code == 200 and "queued again" in retried.text
    assert store.delivery_status(db, filled.dead_delivery) == "pending"
    assert again.status_code == 409 and live.status_code == 409
    assert browser.post("/alerts/999999/retry", {"csrf": csrf}).status_code == 404


def test_the_feeds_alerts_and_rules_pages(filled: tuple[Database, Browser]) -> None:
    db, browser = filled

    feeds = browser.get("/feeds").text
    alerts = browser.get("/alerts?status=dead").text
    rules_page = browser.get("/rules").text

    for feed in store.list_feeds(db):
        assert f"<td>{feed.name}" in feeds and f'<td class="num">{feed.items}</td>' in feeds
    assert "?token=***" in feeds
    assert alerts.count('<tr id="delivery-') == 1 and "failed: slack://*** said no" in alerts
    assert ">retry</button>" in alerts
    assert f'<tr id="rule-{ARMS}">' in rules_page and f'<tr id="rule-{PACT}">' in rules_page
    for rule in rules().rules:
        assert f"<code>{rule.version}</code>" in rules_page
    assert "Alphaland ships artillery shells to Betania" in rules_page  # an inline example


def test_match_url_is_the_match_page_under_the_public_base(
    filled: tuple[Database, Browser],
) -> None:
    db, _ = filled
    match_id = all_ids(db)[0]
    browser = Browser(
        make_app(db, base_url="https://monitor.example.org"), "https://monitor.example.org"
    )

    url = match_url("https://monitor.example.org/", match_id)

    assert url == f"https://monitor.example.org/matches/{match_id}"
    assert browser.get(url.removeprefix("https://monitor.example.org")).status_code == 200


def test_item_text_is_escaped_and_only_web_links_are_links(db: Database) -> None:
    fill(db)
    title = '<script>alert(1)</script> Alphaland ships artillery to Betania "now"'
    hostile = make_item("x1", title, NOW, "javascript:alert(2)")
    [state] = store.claim_due_feeds(db, "t", NOW, timedelta(minutes=5), 1, ["wire-a"])
    store.save_poll(
        db,
        PollResult(
            feed_id=state.id,
            started_at=NOW,
            finished_at=NOW,
            outcome="ok",
            next_poll_at=NOW,
            items=(hostile,),
            matches=tuple(_matches(hostile)),
        ),
        "t",
        StoryFiling(),
    )
    browser = Browser(make_app(db))
    newest = all_ids(db)[0]

    for path in ("/matches", f"/matches/{newest}", "/alerts", "/"):
        html = browser.get(path).text
        assert "<script>alert" not in html and "javascript:" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.get(f"/matches/{newest}").text


def _matches(item: Item) -> list[Match]:
    return [replace(m, targets=("desk",)) for m in match_item(rules(), item)[0]]
