"""Hide secrets in URLs before they reach logs or the terminal."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_WORDS = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "session", "code")
HIDDEN = "***"


def redact_url(url: str) -> str:
    """The URL with its password and secret-looking query values replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return HIDDEN
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{HIDDEN}@{hostport}" if ":" in userinfo else f"{HIDDEN}@{hostport}"
    query = urlencode(
        [(k, HIDDEN if _is_secret(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)
