"""Alerts: from stored matches to messages people read.

Owns routing (`route`: which targets want a match), the suppression policy (`policy`:
silences, re-alert windows, quiet hours), story grouping (`stories`: is this item a copy of
a story already seen), rendering (`render`, the only user of Jinja2, with its `templates/`),
sending (`notify`, the only user of Apprise) and the outbox sender (`sender`). Routing,
policy and grouping are pure functions; the sender is the only part that reads and writes
the outbox. Must not fetch, parse or match.
"""
