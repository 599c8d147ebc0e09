"""Load YAML with the position of every key, for errors that point at file:line:col.

The one YAML loader of monitor (config and rules alike). It rejects duplicate keys and
non-scalar keys, and leaves dates as strings so validation decides what they mean. Aliases
are expanded with limits: a value that contains itself, nesting deeper than `MAX_DEPTH` or
more than `MAX_VALUES` values after expansion (a "billion laughs") is a problem, never a
crash or a hang.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import InvalidFile, Pos, Problem

Loc = tuple[str | int, ...]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAX_DEPTH = 100  # levels of nesting; config and rule files use fewer than 10
MAX_VALUES = 100_000  # values in one document once aliases are expanded (the largest shipped
# file, rules/actors/jpn.yaml, has about 1,300)


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: `from: 2024-01-01` stays a string."""


# libyaml's parser when PyYAML was built with it (the wheels are): rule files are read at
# every start and reload, and the pure-Python parser took most of a rule set's build time.
# A document libyaml refuses is read again by the Python parser, whose messages and
# positions are the ones users see.
_FastBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastLoader(_FastBase):  # type: ignore[valid-type,misc]
    """`_Loader` on libyaml."""


_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class Located:
    """A loaded YAML document and the position of each key (or list item) in it."""

    value: Any
    path: str
    positions: Mapping[Loc, Pos] = field(default_factory=dict)

    def pos_of(self, loc: Loc) -> Pos:
        """The position of `loc`, else of its nearest ancestor that has one."""
        for end in range(len(loc), -1, -1):
            found = self.positions.get(tuple(loc[:end]))
            if found is not None:
                return found
        return Pos(self.path, 1, 1)


def load_text(text: str, path: str) -> Located:
    """Parse `text` (named `path` in errors).

    Raises:
        InvalidFile: a syntax error, a duplicate key or a non-scalar key.
    """
    fast = _FastLoader(text)
    try:
        return _walked(fast, fast.get_single_node(), path)
    except (yaml.YAMLError, RecursionError):
        pass  # read again below, for the Python parser's message and position
    finally:
        fast.dispose()
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except RecursionError:  # PyYAML composes recursively: a few hundred levels exhaust it
        at = loader.get_mark()
        pos = Pos(path, at.line + 1, at.column + 1)
        raise InvalidFile([Problem(pos, f"nested more than {MAX_DEPTH} levels deep")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(path, mark.line + 1, mark.column + 1) if mark else Pos(path, 1, 1)
        message = f"invalid YAML: {exc.problem or exc}"
        opened = exc.context_mark
        if exc.context and opened and opened is not mark:
            message += (
                f" ({exc.context} that starts at line {opened.line + 1}, col {opened.column + 1})"
            )
        raise InvalidFile([Problem(pos, message)]) from exc
    finally:
        loader.dispose()
    return _walked(loader, node, path)


def _walked(loader: yaml.SafeLoader, node: yaml.Node | None, path: str) -> Located:
    """The document `node` (None: empty) as values, each key's position remembered.

    Raises:
        InvalidFile: duplicate or non-scalar keys, recursive aliases, too deep or too large.
    """
    if node is None:
        return Located(None, path, {(): Pos(path, 1, 1)})
    walker = _Walker(loader, path)
    try:
        value = walker.walk(node, ())
    except _TooLarge:
        problem = Problem(
            Pos(path, 1, 1), f"more than {MAX_VALUES:,} values once aliases are expanded"
        )
        raise InvalidFile([problem]) from None
    if walker.problems:
        raise InvalidFile(walker.problems)
    return Located(value, path, walker.positions)


def load_file(path: Path) -> Located:
    """Read and parse a YAML file.

    Raises:
        InvalidFile: the file cannot be read or is not valid YAML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidFile([Problem(Pos(str(path), 1, 1), f"cannot read file: {exc}")]) from exc
    return load_text(text, str(path))


def load_scalar(text: str) -> Any:
    """A single value written the YAML way (`3`, `true`, `15m`), as in an environment variable.
    Numbers, booleans and null are typed; anything else is returned exactly as written."""
    if not text.strip() or "#" in text:  # '#' would start a YAML comment and cut the value
        return text
    try:
        value = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.YAMLError:
        return text
    return value if value is None or isinstance(value, int | float | bool) else text


def _pos(path: str, node: yaml.Node) -> Pos:
    return Pos(path, node.start_mark.line + 1, node.start_mark.column + 1)


class _TooLarge(Exception):
    """More than MAX_VALUES values: stop walking at once."""


_Pairs = list[tuple[yaml.Node, yaml.Node]]


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, path: str) -> None:
        self.loader = loader
        self.path = path
        self.positions: dict[Loc, Pos] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # the collections being walked: an alias back is a loop
        self._split: dict[int, tuple[_Pairs, _Pairs]] = {}  # mapping -> (explicit, merged)
        self._values = 0

    def walk(self, node: yaml.Node, loc: Loc) -> Any:
        self.positions.setdefault(loc, _pos(self.path, node))
        self._values += 1
        if self._values > MAX_VALUES:
            raise _TooLarge
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self.loader.construct_object(node, deep=True)
        if id(node) in self._open:
            anchor = _pos(self.path, node)
            self.problems.append(
                Problem(
                    self.positions[loc],
                    f"recursive alias: the value at line {anchor.line}, col {anchor.col} "
                    "contains itself",
                )
            )
            return None
        if len(loc) >= MAX_DEPTH:
            self.problems.append(
                Problem(self.positions[loc], f"nested more than {MAX_DEPTH} levels deep")
            )
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            return [self.walk(item, (*loc, i)) for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _pairs(self, node: yaml.MappingNode) -> tuple[_Pairs, _Pairs]:
        """The mapping's own pairs and those merged in by `<<:`, split once per node (an
        aliased mapping is walked again, and flattening changes the node)."""
        if id(node) not in self._split:
            explicit = [pair for pair in node.value if pair[0].tag != "tag:yaml.org,2002:merge"]
            self.loader.flatten_mapping(node)  # resolves `<<:` merge keys, merged pairs first
            self._split[id(node)] = (explicit, node.value[: len(node.value) - len(explicit)])
        return self._split[id(node)]

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        explicit, merged = self._pairs(node)
        out: dict[str, Any] = {}
        for key_node, value_node in explicit:
            here = _pos(self.path, key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(here, "mapping keys must be plain words"))
                continue
            key = str(self.loader.construct_object(key_node))
            if key in out:
                first = self.positions[(*loc, key)]
                self.problems.append(
                    Problem(here, f"duplicate key '{key}' (first at line {first.line})")
                )
                continue
            self.positions[(*loc, key)] = here
            out[key] = self.walk(value_node, (*loc, key))
        for key_node, value_node in merged:  # explicit keys override merged ones
            key = str(self.loader.construct_object(key_node))
            if key not in out:
                self.positions[(*loc, key)] = _pos(self.path, key_node)
                out[key] = self.walk(value_node, (*loc, key))
        return out
