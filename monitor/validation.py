"""Turn pydantic validation errors into `Problem`s that point at file:line:col."""

import difflib
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from monitor.errors import Problem
from monitor.yamlpos import Loc, Located

Spec = TypeVar("Spec", bound=BaseModel)


def dotted(loc: Loc) -> str:
    """`feeds[0].url` for ("feeds", 0, "url")."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def describe(error: Any, model: type[BaseModel], unknown: str = "unknown key") -> tuple[Loc, str]:
    """The location and message of one pydantic error, with a did-you-mean for unknown keys."""
    loc: Loc = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = unknown + suggestion(model, loc)
    elif error["type"] == "missing":
        message = "required key is missing"
    elif (
        isinstance(error.get("input"), str | int | float | bool)
        and str(error.get("input")) not in message
    ):
        message += f" (got {error['input']!r})"
    return loc, f"{dotted(loc)}: {message}" if loc else message


def validate(
    model: type[Spec], raw: dict[str, Any], doc: Located, at: Loc = ()
) -> tuple[Spec | None, list[Problem]]:
    """`raw` (found at `at` in `doc`) as a `model`, or None and every problem, each at the
    position of its key and named by its full dotted path."""
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        prefix = dotted(at) + "." if at else ""
        found = []
        for error in exc.errors():
            loc, message = describe(error, model)
            found.append(Problem(doc.pos_of((*at, *loc)), prefix + message))
        return None, found


def suggestion(model: type[BaseModel], loc: Loc) -> str:
    """` (did you mean 'interval'?)` for a misspelt key at `loc`, else ''."""
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        nested = [
            a
            for a in (annotation, *get_args(annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not nested:
            return ""
        model = nested[0]
    known = [field.alias or name for name, field in model.model_fields.items() if not field.exclude]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
