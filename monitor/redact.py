"""Hide secrets in URLs before they reach logs or the terminal."""

import re

HIDDEN = "***"
# Query parameter names (split into words on _ - .) that carry credentials.
_SECRET_WORDS = frozenset(
    {
        "token",
        "key",
        "apikey",
        "secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "auth",
        "authorization",
        "sig",
        "signature",
        "session",
        "sessionid",
        "sid",
        "code",
        "credential",
        "credentials",
        "jwt",
        "bearer",
        "hmac",
        # the same names written as one word
        "accesstoken",
        "authtoken",
        "apitoken",
        "refreshtoken",
        "clientsecret",
        "privatekey",
    }
)
_USERINFO = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@:?#]*)(?::[^/?#]*)?@")
_PARAM = re.compile(r"(?P<lead>[?&;#])(?P<name>[^=&;#]+)=(?P<value>[^&;#]*)")


def redact_url(url: str) -> str:
    """The URL with its password (or token-like lone user) and credential-like parameter
    values replaced by ***.

    Everything else is returned exactly as written (no re-encoding).
    """
    url = _USERINFO.sub(_hide_password, url, count=1)
    return _PARAM.sub(_hide_value, url)


def _hide_password(found: re.Match[str]) -> str:
    had_password = ":" in found.group(0)[len(found["scheme"]) :]
    if had_password:
        return f"{found['scheme']}{found['user']}:{HIDDEN}@"
    return f"{found['scheme']}{HIDDEN}@"  # a lone user part is often a token


# Where a camelCase or PascalCase name starts a new word: accessToken, APIKey, X-AuthToken.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _hide_value(found: re.Match[str]) -> str:
    words = re.split(r"[_\-.\[\]]+", _CAMEL.sub("_", found["name"]).lower())
    if _SECRET_WORDS.isdisjoint(words):
        return found.group(0)
    return f"{found['lead']}{found['name']}={HIDDEN}"
