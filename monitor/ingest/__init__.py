"""Ingest: feed documents from the network to normalised items.

Owns downloading (`fetch`, the only user of httpx), parsing (`parse`, the only user of
feedparser), cleaning (`normalize`, the only user of selectolax) and the glue between the
last two (`document`). Everything but `fetch` is pure. Must not touch the database, the
rules or alerts: it hands frozen `monitor.model` values to whoever called it.
"""
