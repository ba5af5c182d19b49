"""Loading scenarios: presets, YAML files, `base:` inheritance, overrides, and their errors.

Use `load_scenario` to turn a preset name or a YAML path (plus dotted-key overrides) into a
validated `Scenario`, and `presets` to list the shipped presets. Every way a user's input can be
wrong ends here as one `UserError` line naming the file (and line), the field path, the value
given and what is allowed; this module is the only place that turns pydantic's and PyYAML's
errors into such lines. Whether a scenario fits in this machine's memory is a question about
running it, so it is not asked here: the engine asks it before every run, and the command line asks
it with `source_label` right after loading, before any work.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trustsim.errors import UserError
from trustsim.scenario.fields import apply_overrides, explain, show_value
from trustsim.scenario.schema import AUDIT_METRICS, Scenario
from trustsim.scenario.observations import Observations, check_observations, run_window
from trustsim.scenario.uncertainty import check_ranges

_SUFFIXES = (".yaml", ".yml")
# Far beyond any scenario (a few hundred values, a few levels deep), far below what takes long to
# check: a document over these limits, e.g. a bomb of nested aliases, is refused unread.
MAX_BYTES = 1 << 20
MAX_VALUES = 100_000
MAX_DEPTH = 40


class _BadValue(yaml.constructor.ConstructorError):
    """A value YAML reads but cannot build: a date that does not exist, `!!int abc`."""

    def __init__(self, node: yaml.Node, reason: str):
        if node.tag == "tag:yaml.org,2002:timestamp":
            problem, self.allowed = f"{node.value} is not a date ({reason})", "a date YYYY-MM-DD that exists"
        else:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            problem, self.allowed = f"{node.value!r} cannot be read as {tag} ({reason})", f"a value that {tag} reads"
        super().__init__(None, None, problem, node.start_mark)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 safe loading, plus YAML 1.2 floats like 626e6 (1.1 wants 6.26e+8)."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML builds dates and explicitly tagged values with Python's constructors, whose plain
        # ValueErrors ("day is out of range for month") no YAML error handler would catch.
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise _BadValue(node, str(exc)) from None
        except (KeyError, AttributeError):  # `!!bool maybe`, `!!timestamp soon`
            raise _BadValue(node, "not in a form it reads") from None


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass(frozen=True)
class _Source:
    """One YAML document of a scenario: how to name it in errors, and its text."""

    label: str
    text: str
    path: Path | None  # None for a preset (it lives inside the package)


# --- finding and reading files -----------------------------------------------------------------


def _preset_dir() -> resources.abc.Traversable:
    return resources.files("trustsim").joinpath("scenarios")


def _preset_names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in _preset_dir().iterdir() if p.name.endswith(".yaml"))


def presets() -> list[tuple[str, str]]:
    """The shipped presets as (name, one-line description), sorted by name."""
    out = []
    for name in _preset_names():
        data = _parse(_read_preset(name))
        out.append((name, str(data.get("description", ""))))
    return out


def _looks_like_path(name: str) -> bool:
    return name.endswith(_SUFFIXES) or "/" in name or "\\" in name


def _read_preset(name: str) -> _Source:
    names = _preset_names()
    if name not in names:
        hint = difflib.get_close_matches(name, names, n=1)
        mean = f"did you mean {hint[0]}? " if hint else ""
        raise UserError(
            f"{name}: unknown preset; {mean}allowed: {', '.join(names)}, or a path to a .yaml file"
        )
    return _Source(f"preset {name}", _preset_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8"), None)


def _read_path(path: Path, label: str) -> _Source:
    try:
        if not path.exists():
            raise UserError(f"{label}: no such file; allowed: a preset name or an existing .yaml file")
        if not path.is_file():
            raise UserError(f"{label}: is a directory, not a file; allowed: a preset name or a .yaml file")
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{label}: {path.stat().st_size:,} bytes; allowed: a scenario file of at most {MAX_BYTES:,} bytes")
        return _Source(label, path.read_text(encoding="utf-8"), path.resolve())
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{label}: cannot be read ({exc}); allowed: a readable UTF-8 .yaml file") from None


def _is_preset(name_or_path: str | Path) -> bool:
    """Whether a scenario argument names a preset rather than a file: a name that is not a path."""
    if not isinstance(name_or_path, str) or _looks_like_path(name_or_path):
        return False
    try:
        return name_or_path in _preset_names() or not Path(name_or_path).is_file()
    except OSError:  # too long a name for a file: taken as a preset's
        return True


def source_label(name_or_path: str | Path) -> str:
    """How error lines name a scenario argument: `preset NAME`, or the file's path as given."""
    return f"preset {name_or_path}" if _is_preset(name_or_path) else str(Path(name_or_path))


def source_of(name_or_path: str | Path) -> str:
    """A scenario argument that names the same scenario from any working directory."""
    return str(name_or_path) if _is_preset(name_or_path) else str(Path(name_or_path).resolve())


def _read(name_or_path: str | Path, relative_to: Path | None = None) -> _Source:
    """A preset by name, or a file (relative to the file that names it as its base)."""
    if _is_preset(name_or_path):
        return _read_preset(str(name_or_path))
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute():
        path = relative_to.parent / path
    return _read_path(path, str(path))


def _expanded_size(root: yaml.Node, label: str) -> int:
    """Values in the document once every alias is expanded, counted without expanding them; a
    document that refers to itself or nests deeper than MAX_DEPTH is refused."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise UserError(f"{label}: nested more than {MAX_DEPTH} levels deep; allowed: a mapping of sections")
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise UserError(f"{label}: an alias refers to itself; allowed: a document without cycles")
            return sizes[id(node)]
        sizes[id(node)] = -1
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else [])
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_VALUES:
                raise UserError(f"{label}: more than {MAX_VALUES:,} values once its aliases are expanded; "
                                f"allowed: a scenario of at most {MAX_VALUES:,} values")
        sizes[id(node)] = total
        return total

    return size(root, 0)


def load_yaml(text: str, label: str) -> Any:
    """A YAML document's value, checked for size and depth before it is built."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, label)
        return loader.construct_document(node)
    except RecursionError:
        raise UserError(f"{label}: nested too deeply; allowed: a mapping of sections") from None
    finally:
        loader.dispose()


def _load(source: _Source, allowed: str) -> Any:
    """The document's value; a YAML problem is one line naming the document and line."""
    try:
        return load_yaml(source.text, source.label)
    except _BadValue as exc:
        line = exc.problem_mark.line + 1
        raise UserError(f"{source.label}, line {line}: {exc.problem}; allowed: {exc.allowed}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise UserError(f"{source.label}{line}: malformed YAML: {problem}; allowed: {allowed}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{source.label}: malformed YAML: {exc}; allowed: {allowed}") from None


def _parse(source: _Source) -> dict[str, Any]:
    data = _load(source, "a YAML mapping of sections")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(
            f"{source.label}: the document is a {type(data).__name__} ({show_value(data)}); "
            f"allowed: a mapping of sections ({', '.join(Scenario.model_fields)}, base)"
        )
    return data


# --- base: inheritance -------------------------------------------------------------------------


def _merge(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else (lists too) the child replaces."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(source: _Source, chain: list[_Source]) -> dict[str, Any]:
    """The merged data of source and its bases; `chain` collects the documents, source first.

    A file that sets no `name` takes its file name, so a derived file is not named after its base.
    """
    identity = source.path or source.label
    seen = [s.path or s.label for s in chain]
    if identity in seen:
        cycle = " -> ".join(s.label for s in chain[seen.index(identity):]) + f" -> {source.label}"
        raise UserError(f"{_where(chain[-1], ('base',))}: base: cycle {cycle}; allowed: a chain of bases that ends")
    data = _parse(source)
    if not set(data) - {"name", "description"}:  # the schema's defaults alone are a system with no sanctions
        raise UserError(f"{source.label}: no settings; allowed: `base: PRESET` and the settings that differ from it, "
                        f"or a whole scenario (sections {', '.join(Scenario.model_fields)})")
    chain.append(source)
    if source.path is not None:
        data.setdefault("name", source.path.stem)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise UserError(
            f"{_where(source, ('base',))}: base = {show_value(base)}; allowed: a preset name or a path to a .yaml file"
        )
    try:
        parent = _read(base, relative_to=source.path)
    except UserError as exc:  # the base's own message names the base, not the file that asks for it
        raise UserError(f"{_where(source, ('base',))}: base: {exc}") from None
    return _merge(_resolve(parent, chain), data)


# --- error messages ----------------------------------------------------------------------------


def _line(text: str, loc: tuple[Any, ...]) -> tuple[int, int | None]:
    """How many leading parts of loc a YAML text spells out, and the line of the deepest one."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return 0, None
    depth, line = 0, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
        depth += 1
    return depth, line


def _where(source: _Source, loc: tuple[Any, ...]) -> str:
    _, line = _line(source.text, loc)
    return f"{source.label}, line {line}" if line else source.label


def _blame(chain: list[_Source], loc: tuple[Any, ...]) -> str:
    """The document (and line) that set the field at loc: the most derived one that spells most of it."""
    best, best_depth = chain[0], 0
    for source in chain:
        depth, _ = _line(source.text, loc)
        if depth > best_depth:
            best, best_depth = source, depth
    return _where(best, loc)


# --- overrides ---------------------------------------------------------------------------------


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings from the command line as {dotted key: YAML-typed value}."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item}: not KEY=VALUE; allowed: e.g. --set population.people=50000")
        try:
            out[key.strip()] = load_yaml(text, f"--set {key.strip()}")
        except _BadValue as exc:
            raise UserError(f"--set {item}: {exc.problem}; allowed: {exc.allowed}") from None
        except yaml.YAMLError as exc:
            raise UserError(f"--set {item}: the value is not valid YAML ({exc.__class__.__name__}); "
                            f"allowed: a number, true/false, text or a [list]") from None
    return out


def read_observations(path: str | Path) -> Observations:
    """An observation file given on the command line (`--observations FILE`, the structure of a
    scenario's `observations:` section), or a one-line error."""
    path = Path(path)
    label = f"--observations {path}"
    allowed = "a YAML file like a scenario's observations: section"
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{label}: {path.stat().st_size:,} bytes; allowed: a file of at most {MAX_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UserError(f"{label}: cannot read it ({reason}); allowed: {allowed}") from None
    data = _load(_Source(label, text, path), allowed)
    if not isinstance(data, dict) or not data.get("figures"):
        raise UserError(f"{label}: no figures; allowed: a mapping with figures: (and nuisance:)")
    try:
        return Observations.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise UserError(f"{label}: {field}: {err['msg']}") from None


def _check_calendar(run: Any, label: str) -> None:
    """Refuse a run whose steps would be dated past the calendar's last day (9999-12-31)."""
    try:
        run_window(run)
    except OverflowError:
        raise UserError(f"{label}: run.start = {run.start}: a run of {run.years:g} years from it ends after "
                        f"{dt.date.max}; allowed: a start and run.years that end by {dt.date.max}") from None


# --- the entry point ---------------------------------------------------------------------------


def load_scenario(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """A validated scenario from a preset name or YAML path, with dotted-key overrides applied.

    A file may name a `base:` (a preset or a path relative to it) whose settings it deep-merges
    over; a file that sets no `name` takes its file name. Overrides are {"population.people":
    50000, "sanctions.rules.0.min_weeks": 4, ...}. Any invalid input raises a one-line UserError.
    """
    chain: list[_Source] = []
    top = _read(name_or_path)
    data = _resolve(top, chain)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, lambda loc: _blame(chain, loc)) from None
    if overrides:
        scenario = apply_overrides(scenario, overrides, top.label)
    _check_calendar(scenario.run, top.label)
    check_ranges(scenario, scenario.uncertainty, top.label)
    check_observations(scenario.observations, AUDIT_METRICS, top.label)
    return scenario
