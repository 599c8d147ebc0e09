"""Country names per language from CLDR, the Unicode locale data that Babel ships.

The only user of Babel. An actor file that names its `territory` (ISO 3166-1 alpha-2) gets
that country's CLDR name in every language of the rule set that CLDR covers, so a new
language starts with correct country names without anyone copying them by hand.

A language's whole locale data (about 1.5 MB in memory) is loaded to read its country names,
and dropped right after: the names are first copied out in one string, so that no small
object of the load stays behind to pin the memory it was loaded into, and every process
that loads a rule set (the daemon's and each reader) is left with the names alone.
"""

from functools import cache

import babel.core
from babel import Locale, UnknownLocaleError
from babel.localedata import clear_caches

_SEPARATOR = "\0"  # in no territory code and no name


def territory_name(territory: str, language: str) -> str | None:
    """The CLDR name of `territory` in `language`, or None when CLDR has none."""
    return _territories(language).get(territory)


@cache
def _territories(language: str) -> dict[str, str]:
    packed = _packed(language)
    if not packed:
        return {}
    fields = packed.split(_SEPARATOR)
    return dict(zip(fields[::2], fields[1::2], strict=True))


def _packed(language: str) -> str:
    """The language's territory codes and names, alternating in one string; the locale data
    they came from is dropped."""
    try:
        names = Locale.parse(language).territories
        packed = _SEPARATOR.join(f"{code}{_SEPARATOR}{name}" for code, name in names.items())
    except (UnknownLocaleError, ValueError):
        packed = ""
    clear_caches()
    babel.core._global_data = None  # the likely-subtags tables (2 MB): reloaded when asked
    return packed


def release_locale_data() -> None:
    """Drop the names kept for the languages asked about, once the rule set holds them."""
    _territories.cache_clear()
