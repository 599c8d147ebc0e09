"""Country names per language from CLDR, the Unicode locale data that Babel ships.

The only user of Babel. An actor file that names its `territory` (ISO 3166-1 alpha-2) gets
that country's CLDR name in every language of the rule set that CLDR covers, so a new
language starts with correct country names without anyone copying them by hand.
"""

from functools import cache

from babel import Locale, UnknownLocaleError
from babel.localedata import clear_caches


@cache
def territory_name(territory: str, language: str) -> str | None:
    """The CLDR name of `territory` in `language`, or None when CLDR has none."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None
    name = locale.territories.get(territory)
    return str(name) if name else None


def release_locale_data() -> None:
    """Drop the locale data Babel keeps once loaded (about 1 MB per language), when the
    names asked for are known; asking again loads it again."""
    clear_caches()
