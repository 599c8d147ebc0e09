"""Poll results: new items, feed state and poll history, written in one transaction."""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Text, Update, bindparam, case, cast, func, insert, or_, update
from sqlmodel import Session, col, select

from monitor.model import Item, PollResult
from monitor.store.database import Database, insert_for
from monitor.store.stories import Filing, file_stories
from monitor.store.tables import DeliveryRow, FeedRow, ItemRow, MatchRow, PollRow, table_of


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as `monitor items` shows it."""

    feed: str
    title: str
    link: str | None
    published_at: datetime
    fetched_at: datetime
    language: str | None
    summary: str


def save_poll(db: Database, result: PollResult, owner: str | None, filing: Filing) -> list[str]:
    """Store a poll: insert its new items, update the feed, log the poll, release the lease.
    Matched new items are filed under stories as `filing` decides.

    Returns the keys of the items that were new (already stored ones are skipped by
    ON CONFLICT DO NOTHING, so a re-poll stores nothing twice).
    """
    with db.session() as session:
        new = _insert_items(session, db.dialect, result)
        new_keys = list(new)
        # Statements built once, no ORM row: the feed is updated without being read first
        connection = session.connection()
        name = connection.execute(
            _FEED_AFTER_POLL, _feed_update_params(result, owner, len(new_keys))
        ).scalar()
        if any(m.item_key in new for m in result.matches):
            # story assignment reads recent stories, then writes: one poll at a time, or
            # copies polled at once by two workers or daemons would each open a story
            db.lock(session, "stories")
            _insert_matches(session, db.dialect, result, new, filing, name or str(result.feed_id))
        connection.execute(
            _POLL,
            {
                "feed_id": result.feed_id,
                "started_at": result.started_at,
                "duration_ms": round(result.duration.total_seconds() * 1000),
                "outcome": result.outcome,
                "http_status": result.http_status,
                "bytes": result.body_bytes,
                "items_seen": len(result.items),
                "items_new": len(new_keys),
                "error_kind": result.error_kind,
                "error": result.error,
                "bozo": result.bozo,
            },
        )
    return new_keys


def _insert_items(session: Session, dialect: str, result: PollResult) -> dict[str, int]:
    """Insert the poll's items that are new; their keys and ids."""
    unique = {item.key: item for item in result.items}  # a feed may list one entry twice
    if not unique:
        return {}
    rows = [_item_values(item, result) for item in unique.values()]
    if dialect == "postgresql":
        columns = {name: [row[name] for row in rows] for name in _ITEM_COLUMNS}
        columns["tags"] = [json.dumps(tags) for tags in columns["tags"]]
        return {row[0]: row[1] for row in session.execute(_items_by_arrays(), columns)}
    statement = (
        insert_for(dialect, ItemRow)
        .on_conflict_do_nothing(index_elements=["feed_id", "key"])
        .returning(col(ItemRow.key), col(ItemRow.id))
    )
    # one statement run for many rows (SQLAlchemy's insertmanyvalues batches it), so it is
    # compiled once per process instead of once per poll as a multi-row VALUES would be
    return {row[0]: row[1] for row in session.execute(statement, rows)}


_ITEM_COLUMNS = (
    "feed_id", "key", "guid", "link", "title", "summary", "author", "published_at",
    "date_source", "language", "tags", "fetched_at",
)  # fmt: skip


@cache
def _items_by_arrays() -> Any:
    """PostgreSQL: a poll's items as one array per column, unnested into rows. The SQL is
    the same whatever the number of items, so psycopg converts it once and the server
    prepares it; the multi-row VALUES of an executemany is new SQL for each number of
    items, with more than the 50 parameters psycopg caches the conversion of: reading it
    again was half the time of storing a poll."""
    from sqlalchemy.dialects import postgresql

    table = table_of(ItemRow)
    columns = [table.c[name] for name in _ITEM_COLUMNS]
    arrays = [
        bindparam(c.name, type_=postgresql.ARRAY(Text() if isinstance(c.type, JSON) else c.type))
        for c in columns
    ]
    rows = func.unnest(*arrays).table_valued(*_ITEM_COLUMNS).render_derived()
    values = select(
        *(
            cast(rows.c[c.name], JSON) if isinstance(c.type, JSON) else rows.c[c.name]
            for c in columns
        )
    )
    return (
        postgresql.insert(table)
        .from_select(list(_ITEM_COLUMNS), values)
        .on_conflict_do_nothing(index_elements=["feed_id", "key"])
        .returning(table.c.key, table.c.id)
    )


def _insert_matches(
    session: Session,
    dialect: str,
    result: PollResult,
    new: dict[str, int],
    filing: Filing,
    feed_name: str,
) -> None:
    """Matches of new items, each item's story, and the outbox rows for their targets."""
    fresh = [m for m in result.matches if m.item_key in new]
    if not fresh:
        return
    keys = list(dict.fromkeys(m.item_key for m in fresh))
    by_key = {item.key: item for item in result.items}  # as just stored: no need to read back
    made = {m.item_key: m.story_words for m in fresh if m.story_words}
    filed = file_stories(
        session,
        [(new[key], by_key[key], feed_name, made.get(key)) for key in keys],
        result.started_at,
        result.story_window,
        filing,
    )
    stories = {key: filed[new[key]] for key in keys}
    rows = [
        {
            "item_id": new[m.item_key],
            "rule_id": m.rule,
            "rule_version": m.version,
            "level": m.level,
            "score": m.score,
            "sentence": m.sentence,
            "evidence": [asdict(e) for e in m.evidence],
            "matched_at": result.started_at,
            "story_id": stories[m.item_key],
        }
        for m in fresh
    ]
    inserted = session.execute(
        insert_for(dialect, MatchRow).returning(col(MatchRow.id), sort_by_parameter_order=True),
        rows,
    )
    match_ids = list(inserted.scalars())
    outbox = [
        {
            "key": f"{m.rule}:{row['story_id']}:{target}",
            "match_id": match_id,
            "story_id": row["story_id"],
            "rule_id": m.rule,
            "rule_title": m.rule_title or m.rule,
            "target": target,
            "level": m.level,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": result.started_at,
            "created_at": result.started_at,
            "pending_since": result.started_at,
        }
        for m, row, match_id in zip(fresh, rows, match_ids, strict=True)
        for target in m.targets
    ]
    if outbox:
        # a story already alerted for this rule and target is not alerted again ...
        statement = insert_for(dialect, DeliveryRow).on_conflict_do_nothing()
        written = set(session.execute(statement.returning(col(DeliveryRow.key)), outbox).scalars())
        # ... unless a later copy comes at a higher level (the rule was raised): once
        repeats = [d for d in outbox if d["key"] not in written]
        escalations = _escalations(session, repeats, filing)
        if escalations:
            session.execute(statement, escalations)


def _escalations(
    session: Session, repeats: list[dict[str, Any]], filing: Filing
) -> list[dict[str, Any]]:
    if not repeats:
        return []
    keys = [delivery["key"] for delivery in repeats]
    query = select(col(DeliveryRow.key), col(DeliveryRow.level))
    first = dict(session.execute(query.where(col(DeliveryRow.key).in_(keys))).all())
    return [
        {**delivery, "key": f"{delivery['key']}:escalated"}
        for delivery in repeats
        if delivery["key"] in first and filing.escalates(first[delivery["key"]], delivery["level"])
    ]


def _item_values(item: Item, result: PollResult) -> dict[str, object]:
    return {
        "feed_id": result.feed_id,
        "key": item.key,
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "author": item.author,
        "published_at": item.published_at,
        "date_source": item.date_source,
        "language": item.language,
        "tags": list(item.tags),
        "fetched_at": result.started_at,
    }


def _feed_update_params(result: PollResult, owner: str | None, new: int) -> dict[str, Any]:
    """The parameters of `_FEED_AFTER_POLL` for this poll."""
    failed = result.outcome in ("error", "gone")
    validators = result.validators
    return {
        "p_feed_id": result.feed_id,
        "p_started": result.started_at,
        "p_finished": result.finished_at,
        "p_next": result.next_poll_at,
        "p_release_any": owner is None,
        "p_owner": owner,
        "p_has_validators": validators is not None,
        "p_etag": validators.etag if validators else None,
        "p_last_modified": validators.last_modified if validators else None,
        "p_body_hash": result.body_hash,
        "p_title": result.feed_title or None,
        "p_new": new,
        "p_failed": failed,
        "p_status": result.outcome if failed else "ok",
        "p_error_kind": result.error_kind,
        "p_error": result.error,
    }


def _feed_after_poll() -> Update:
    """The feed row after a poll, as one UPDATE built once: counters and the lease are
    computed in SQL from the row as it is then (a prune or another daemon may have changed
    it since the poll began), and a statement built per poll would cost more than it runs
    (SQLAlchemy checks every value of a new statement)."""
    table = table_of(FeedRow)
    feed = table.c

    def param(name: str, column: Any = None, type_: Any = None) -> Any:
        return bindparam(name, type_=type_ if type_ is not None else column.type)

    failed = param("p_failed", type_=Boolean())
    ours = or_(
        param("p_release_any", type_=Boolean()),
        feed.lease_owner == param("p_owner", feed.lease_owner),
    )
    has_validators = param("p_has_validators", type_=Boolean())
    finished = param("p_finished", feed.last_polled_at)
    return (
        update(table)
        .where(feed.id == param("p_feed_id", feed.id))
        .values(
            last_polled_at=finished,
            next_poll_at=param("p_next", feed.next_poll_at),
            lease_owner=case((ours, None), else_=feed.lease_owner),
            lease_until=case((ours, None), else_=feed.lease_until),
            etag=case((has_validators, param("p_etag", feed.etag)), else_=feed.etag),
            last_modified=case(
                (has_validators, param("p_last_modified", feed.last_modified)),
                else_=feed.last_modified,
            ),
            body_hash=func.coalesce(param("p_body_hash", feed.body_hash), feed.body_hash),
            title=func.coalesce(param("p_title", feed.title), feed.title),
            item_count=feed.item_count + param("p_new", feed.item_count),
            status=param("p_status", feed.status),
            consecutive_failures=case((failed, feed.consecutive_failures + 1), else_=0),
            last_error_kind=case(
                (failed, param("p_error_kind", feed.last_error_kind)), else_=feed.last_error_kind
            ),
            last_error=case((failed, param("p_error", feed.last_error)), else_=feed.last_error),
            last_error_at=case((failed, finished), else_=feed.last_error_at),
            last_success_at=case((failed, feed.last_success_at), else_=finished),
            failing_since=case(
                (failed, func.coalesce(feed.failing_since, param("p_started", feed.failing_since))),
                else_=None,
            ),
        )
        .returning(feed.name)  # what the stories of this poll's matches are filed under
    )


_FEED_AFTER_POLL = _feed_after_poll()
_POLL = insert(table_of(PollRow))  # a plain INSERT, its values given as parameters


def recent_items(db: Database, limit: int, feed: str | None = None) -> list[StoredItem]:
    query = select(ItemRow, FeedRow.name).join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
    if feed is not None:
        query = query.where(FeedRow.name == feed)
    query = query.order_by(col(ItemRow.published_at).desc(), col(ItemRow.id).desc()).limit(limit)
    with db.reading() as session:
        return [
            StoredItem(
                feed=name,
                title=item.title,
                link=item.link,
                published_at=item.published_at,
                fetched_at=item.fetched_at,
                language=item.language,
                summary=item.summary,
            )
            for item, name in session.exec(query)
        ]
