"""The pages: overview, matches, one match, one story, feeds, alerts, rules, and the JSON
the charts read. Every handler here only reads."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor import store
from monitor.model import LEVELS
from monitor.web.charts import By, chart, dyad_of, recent_spikes
from monitor.web.desk import desk_of, query_day, query_int, query_text, render

PAGE = 50
CHART_DAYS = 90
FEEDBACK = ("any", "relevant", "not-relevant", "unmarked")
STATUSES = ("pending", "sent", "dead", "silenced", "suppressed")


def overview(request: Request) -> Response:
    desk = desk_of(request)
    ruleset = desk.rules()
    today = desk.clock().date()
    feeds = store.feed_lines(desk.db)
    by_status: dict[str, int] = {}
    for feed in feeds:
        by_status[feed.status] = by_status.get(feed.status, 0) + 1
    rules_chart = chart(desk.db, ruleset, today, CHART_DAYS, "rule")
    context = {
        "days": CHART_DAYS,
        "feeds": feeds,
        "failing": [f for f in feeds if f.status in ("error", "gone")],
        "feed_counts": sorted(by_status.items()),
        "deliveries": store.delivery_counts(desk.db),
        "spikes": recent_spikes(rules_chart, 14),
        "matches_90d": sum(s.total for s in rules_chart.series),
        "busiest": rules_chart.series[:5],
    }
    return render(request, "overview.html.j2", context)


def series(request: Request) -> Response:
    """Matches per day per rule (by=rule) or per dyad (by=dyad), with spikes, as JSON."""
    desk = desk_of(request)
    by: By = "dyad" if query_text(request, "by", ("rule", "dyad")) == "dyad" else "rule"
    days = query_int(request, "days", low=7, high=366) or CHART_DAYS
    only = request.query_params.getlist("key") or None
    found = chart(desk.db, desk.rules(), desk.clock().date(), days, by, only)
    return JSONResponse(found.as_json(), headers={"cache-control": "no-store"})


def matches(request: Request) -> Response:
    desk = desk_of(request)
    since, until = query_day(request, "from"), query_day(request, "to")
    feedback = query_text(request, "feedback", FEEDBACK) or "any"
    filters = store.MatchFilter(
        rule=query_text(request, "rule"),
        level=query_text(request, "level", LEVELS),
        feed=query_text(request, "feed"),
        language=query_text(request, "language"),
        since=datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None,
        until=(
            datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
            if until
            else None
        ),
        feedback=feedback,  # type: ignore[arg-type]  # checked against FEEDBACK above
    )
    page = store.match_page(desk.db, filters, query_int(request, "before"), PAGE)
    kept = {k: v for k, v in request.query_params.items() if k != "before" and v}
    context = {"page": page, "filters": kept, "more": _more(kept, page.next_before)}
    if request.headers.get("hx-request") and request.query_params.get("before"):
        return render(request, "_match_rows.html.j2", context)
    ruleset = desk.rules()
    feeds = store.feed_lines(desk.db)
    context |= {
        "rules": sorted({*(r.id for r in ruleset.rules)} if ruleset else set()),
        "levels": LEVELS,
        "feeds": [f.name for f in feeds],
        "languages": sorted({f.language for f in feeds if f.language}),
        "feedback_choices": FEEDBACK,
    }
    return render(request, "matches.html.j2", context)


def match(request: Request) -> Response:
    desk = desk_of(request)
    detail = store.match_detail(desk.db, int(request.path_params["match_id"]))
    if detail is None:
        raise HTTPException(404, "no such match")
    ruleset = desk.rules()
    rule = ruleset.get(detail.match.rule) if ruleset else None
    return render(request, "match.html.j2", {"d": detail, "m": detail.match, "rule": rule})


def story(request: Request) -> Response:
    found = store.story_detail(desk_of(request).db, int(request.path_params["story_id"]))
    if found is None:
        raise HTTPException(404, "no such story")
    return render(request, "story.html.j2", {"story": found})


def feeds(request: Request) -> Response:
    rows = store.list_feeds(desk_of(request).db, include_inactive=True)
    return render(request, "feeds.html.j2", {"feeds": rows})


def alerts(request: Request) -> Response:
    desk = desk_of(request)
    status = query_text(request, "status", STATUSES)
    target = query_text(request, "target")
    page = store.delivery_page(
        desk.db, status=status, target=target, before=query_int(request, "before"), limit=PAGE
    )
    kept = {k: v for k, v in request.query_params.items() if k != "before" and v}
    context = {
        "page": page,
        "filters": kept,
        "more": _more(kept, page.next_before),
        "statuses": STATUSES,
        "targets": [t.name for t in desk.settings.targets],
        "counts": store.delivery_counts(desk.db),
    }
    return render(request, "alerts.html.j2", context)


def rules(request: Request) -> Response:
    desk = desk_of(request)
    ruleset = desk.rules()
    hits = {s.key: s for s in chart(desk.db, ruleset, desk.clock().date(), 30, "rule").series}
    precision = store.rule_precision(desk.db)
    listed = [r.id for r in ruleset.rules] if ruleset else []
    removed = sorted((set(precision) | {k for k, s in hits.items() if s.total}) - set(listed))
    context = {
        "ruleset": ruleset,
        "rows": [
            {
                "id": rule_id,
                "rule": rule,
                "dyad": dyad_of(rule) if rule else None,
                "hits": hits.get(rule_id),
                "precision": precision.get(rule_id),
            }
            for rule_id in [*listed, *removed]
            for rule in [ruleset.get(rule_id) if ruleset else None]
        ],
    }
    return render(request, "rules.html.j2", context)


def _more(kept: dict[str, str], before: int | None) -> str | None:
    """The query string of the next page, or None on the last one."""
    if before is None:
        return None
    return urlencode({**kept, "before": before})


ROUTES = [
    Route("/", overview),
    Route("/api/series", series),
    Route("/matches", matches),
    Route("/matches/{match_id:int}", match),
    Route("/stories/{story_id:int}", story),
    Route("/feeds", feeds),
    Route("/alerts", alerts),
    Route("/rules", rules),
]
