"""Poll results: new items, feed state and poll history, written in one transaction."""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, case, func, insert, update
from sqlmodel import Session, col, select

from monitor.model import Item, PollResult
from monitor.store.database import Database, insert_for
from monitor.store.stories import Filing, file_stories
from monitor.store.tables import DeliveryRow, FeedRow, ItemRow, MatchRow, PollRow


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
        if any(m.item_key in new for m in result.matches):
            # story assignment reads recent stories, then writes: one poll at a time, or
            # copies polled at once by two workers or daemons would each open a story
            db.lock(session, "stories")
            _insert_matches(session, db.dialect, result, new, filing)
        new_keys = list(new)
        # Two plain statements, no ORM row: the feed is updated without being read first
        session.execute(_feed_update(result, owner, len(new_keys)))
        session.execute(
            insert(PollRow).values(
                feed_id=result.feed_id,
                started_at=result.started_at,
                duration_ms=round(result.duration.total_seconds() * 1000),
                outcome=result.outcome,
                http_status=result.http_status,
                bytes=result.body_bytes,
                items_seen=len(result.items),
                items_new=len(new_keys),
                error_kind=result.error_kind,
                error=result.error,
                bozo=result.bozo,
            )
        )
    return new_keys


def _insert_items(session: Session, dialect: str, result: PollResult) -> dict[str, int]:
    """Insert the poll's items that are new; their keys and ids.

    One statement run for many rows (SQLAlchemy's insertmanyvalues batches it), so it is
    compiled once per process instead of once per poll as a multi-row VALUES would be."""
    unique = {item.key: item for item in result.items}  # a feed may list one entry twice
    if not unique:
        return {}
    rows = [_item_values(item, result) for item in unique.values()]
    statement = (
        insert_for(dialect, ItemRow)
        .on_conflict_do_nothing(index_elements=["feed_id", "key"])
        .returning(col(ItemRow.key), col(ItemRow.id))
    )
    return {row[0]: row[1] for row in session.execute(statement, rows)}


def _insert_matches(
    session: Session,
    dialect: str,
    result: PollResult,
    new: dict[str, int],
    filing: Filing,
) -> None:
    """Matches of new items, each item's story, and the outbox rows for their targets."""
    fresh = [m for m in result.matches if m.item_key in new]
    if not fresh:
        return
    feed = session.get(FeedRow, result.feed_id)
    feed_name = feed.name if feed else str(result.feed_id)
    keys = list(dict.fromkeys(m.item_key for m in fresh))
    items = session.exec(select(ItemRow).where(col(ItemRow.id).in_([new[k] for k in keys])))
    by_id = {row.id: row for row in items}
    made = {m.item_key: m.story_words for m in fresh if m.story_words}
    filed = file_stories(
        session,
        [(by_id[new[key]], feed_name, made.get(key)) for key in keys],
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


def _feed_update(result: PollResult, owner: str | None, new: int) -> Update:
    """The feed row after this poll, as one UPDATE whose counters and lease are computed in
    SQL from the row as it is then (a prune or another daemon may have changed it since)."""
    values: dict[str, Any] = {
        "last_polled_at": result.finished_at,
        "next_poll_at": result.next_poll_at,
    }
    if owner is None:
        values |= {"lease_owner": None, "lease_until": None}
    else:  # release the lease only if it is still ours
        ours = col(FeedRow.lease_owner) == owner
        values["lease_owner"] = case((ours, None), else_=col(FeedRow.lease_owner))
        values["lease_until"] = case((ours, None), else_=col(FeedRow.lease_until))
    if result.validators is not None:
        values |= {"etag": result.validators.etag, "last_modified": result.validators.last_modified}
    if result.body_hash is not None:
        values["body_hash"] = result.body_hash
    if result.feed_title:
        values["title"] = result.feed_title
    if new:
        values["item_count"] = col(FeedRow.item_count) + new
    if result.outcome in ("error", "gone"):
        values |= {
            "status": result.outcome,
            "consecutive_failures": col(FeedRow.consecutive_failures) + 1,
            "last_error_kind": result.error_kind,
            "last_error": result.error,
            "last_error_at": result.finished_at,
            "failing_since": func.coalesce(col(FeedRow.failing_since), result.started_at),
        }
    else:
        values |= {
            "status": "ok",
            "consecutive_failures": 0,
            "last_success_at": result.finished_at,
            "failing_since": None,
        }
    return update(FeedRow).where(col(FeedRow.id) == result.feed_id).values(values)


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
