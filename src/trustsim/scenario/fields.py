"""The scenario's fields by dotted path: what the schema allows there, setting values there, and
the one-line error for a value it refuses.

Use `field_at` for the field at a path, `allowed` for what it accepts in words, `check_path` to
check a dotted key against a scenario, `apply_overrides` to set dotted keys, and `explain` to turn
pydantic's validation error into one line. scenario/loading.py (files and `--set`) and
scenario/uncertainty.py (ranges and `--vary`) both build on it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError

from trustsim.errors import UserError
from trustsim.scenario.schema import Scenario


def unwrap(annotation: Any) -> Any:
    """The model, list or dict type inside an annotation like `X | None`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def field_at(loc: Iterable[Any]) -> tuple[Any, Any]:
    """(FieldInfo or None, annotation) of the field at a pydantic location in a Scenario."""
    annotation: Any = Scenario
    info = None
    for part in loc:
        annotation = unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return None, None
            annotation = info.annotation
        elif origin is list:
            annotation, info = typing.get_args(annotation)[0], None
        elif origin is dict:
            annotation, info = typing.get_args(annotation)[1], None
        else:
            return info, annotation
    return info, annotation


def type_words(annotation: Any) -> str:
    annotation = unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a mapping with keys " + ", ".join(annotation.model_fields)
    if origin is list:
        return "a list of " + type_words(typing.get_args(annotation)[0])
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"a mapping of {type_words(key)} to {type_words(value)}"
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "text", dt.date: "a date (YYYY-MM-DD)"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def allowed_at(loc: Iterable[Any]) -> str:
    """What the schema allows at a field path: kind, range and unit, in words."""
    info, annotation = field_at(loc)
    if annotation is None:
        return "a field of the scenario schema"
    text = type_words(annotation)
    if info is not None:
        bounds = {type(m): m for m in info.metadata if isinstance(m, (Ge, Gt, Le, Lt))}
        low = f">= {bounds[Ge].ge}" if Ge in bounds else f"> {bounds[Gt].gt}" if Gt in bounds else ""
        high = f"<= {bounds[Le].le}" if Le in bounds else f"< {bounds[Lt].lt}" if Lt in bounds else ""
        if low or high:
            text += " " + " and ".join(b for b in (low, high) if b)
        if unwrap(info.annotation) is not info.annotation:
            text += ", or null"
        extra = info.json_schema_extra
        unit = extra.get("unit") if isinstance(extra, dict) else None
        if unit not in (None, "-", "date"):
            text += f" ({unit})"
    return text


def dotted(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted field path under a model (through nested models, not lists or dicts)."""
    out = []
    for name, info in model.model_fields.items():
        annotation = unwrap(info.annotation)
        out.append(prefix + name)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out += leaf_paths(annotation, f"{prefix}{name}.")
    return out


def suggest(loc: tuple[Any, ...], fields: list[str]) -> str:
    """A did-you-mean for an unknown key: a close name beside it, else the same name elsewhere."""
    key, prefix = str(loc[-1]), "".join(f"{p}." for p in loc[:-1])
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    if close:
        return prefix + close[0]
    paths = leaf_paths(Scenario)
    homes = [p for p in paths if p.rsplit(".", 1)[-1] == key]  # a right name in the wrong section
    return homes[0] if homes else next(iter(difflib.get_close_matches(dotted(loc), paths, n=1)), "")


def unknown_key(where: str, loc: tuple[Any, ...], value: Any) -> UserError:
    _, model = field_at(loc[:-1])
    fields = list(unwrap(model).model_fields)
    hint = suggest(loc, fields)
    mean = f"did you mean {hint}? " if hint else ""
    section = dotted(loc[:-1]) or "the top level"
    return UserError(
        f"{where}: {dotted(loc)} = {show_value(value)}: unknown key; {mean}allowed in {section}: {', '.join(fields)}"
    )


def explain(exc: ValidationError, where_of: Callable[[tuple[Any, ...]], str]) -> UserError:
    """One line for the first of pydantic's errors; where_of(loc) names the document and line."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(p for p in err["loc"] if p != "[key]")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    where = where_of(loc)
    if err["type"] == "extra_forbidden":
        return UserError(f"{unknown_key(where, loc, err['input'])}{more}")
    if err["loc"][-1] == "[key]":  # a bad key of a mapping, e.g. an unknown occupation
        _, mapping = field_at(loc[:-1])
        permitted = type_words(typing.get_args(unwrap(mapping))[0])
    else:
        permitted = allowed_at(loc)
    if err["type"] == "missing":
        return UserError(f"{where}: {dotted(loc)} is missing; allowed: {permitted}{more}")
    if err["type"] == "literal_error":  # pydantic's message would repeat the allowed values
        problem = "not one of the allowed values"
    else:
        problem = err["msg"].removeprefix("Value error, ").removeprefix("Input ")
    return UserError(f"{where}: {dotted(loc)} = {show_value(err['input'])}: {problem}; allowed: {permitted}{more}")


def show_value(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_path(scenario: Scenario, key: str, value: Any, where: str) -> list[str | int]:
    """The parts of a dotted override key, checked against the scenario it overrides."""
    parts: list[str | int] = []
    node: Any = scenario
    names = key.split(".")
    for i, name in enumerate(names):
        here = tuple(parts)
        if isinstance(node, BaseModel):
            if name not in type(node).model_fields:
                raise unknown_key(where, here + (name,), value)
            parts.append(name)
            node = getattr(node, name)
        elif isinstance(node, list):
            if not (name.isdigit() and int(name) < len(node)):
                span = f"an index from 0 to {len(node) - 1}" if node else "none, the list is empty"
                raise UserError(f"{where}: {dotted(here)}.{name}: no such item; allowed: {span}")
            parts.append(int(name))
            node = node[int(name)]
        elif isinstance(node, dict) and (name in node or i == len(names) - 1):
            parts.append(name)
            node = node.get(name)
        else:
            keys = ", ".join(map(str, node)) if isinstance(node, dict) else f"none, it is {allowed_at(here)}"
            raise UserError(f"{where}: {dotted(here)}.{name}: no such field; allowed keys of {dotted(here)}: {keys}")
    return parts


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any], label: str) -> Scenario:
    """The scenario with overrides set; the file already validated, so any error is theirs."""
    where = f"{label}, override"
    data = scenario.model_dump()
    for key, value in overrides.items():
        parts = check_path(scenario, key, value, where)
        node = data
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, lambda loc: where) from None
