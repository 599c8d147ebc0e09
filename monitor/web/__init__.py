"""The analyst's desk: a web dashboard over what monitor stores.

Owns the ASGI app (`app.create_app`; the only package that uses Starlette), its pages
(`pages`: overview with charts, matches, a match, a story, feeds, alerts, rules) and the
JSON the charts read, the writes (`actions`: feedback on a match, retrying a dead delivery,
login), who may write (`security`: token, sessions, CSRF, same-origin and Host checks,
security headers), the charts' numbers (`charts`), the templates (`templates`, Jinja2's
second home, autoescaped), /metrics and /healthz (`metrics`, the only user of
prometheus-client) and serving it (`serve`, the only user of uvicorn). htmx and uPlot are
vendored in static/ (see static/VENDORED.md): nothing is fetched at run time.

Reads through monitor.store only; pages never write. Must not fetch feeds, match items or
send alerts: it shows what the daemon did and records what the analyst says about it.
"""

from monitor.web.app import create_app
from monitor.web.security import check_listen
from monitor.web.serve import serve

__all__ = ["check_listen", "create_app", "serve"]
