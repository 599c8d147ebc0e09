"""Links into the dashboard, for alerts and for the dashboard's own pages. Pure.

The paths are the dashboard's routes (monitor.web serves them); they live here because
alerts link to matches too, and alerts may not import the web package.
"""


def match_path(match_id: int) -> str:
    """The dashboard's page of one match."""
    return f"/matches/{int(match_id)}"


def story_path(story_id: int) -> str:
    return f"/stories/{int(story_id)}"


def match_url(base_url: str, match_id: int) -> str:
    """The public address of a match's page: `web.base_url` (e.g. https://monitor.example.org
    or https://example.org/monitor) followed by the match's path."""
    return base_url.rstrip("/") + match_path(match_id)
