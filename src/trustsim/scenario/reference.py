"""The parameter reference, generated from the schema: every key with its default, unit, range and
meaning.

Use ``python -m trustsim.scenario.reference > docs/parameters.md`` after changing the schema; a test
checks that the committed file matches, so the reference never drifts from the code.
"""

from __future__ import annotations

from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .schema import Scenario

_BOUND_SYMBOLS = ((Ge, "ge", ">="), (Gt, "gt", ">"), (Le, "le", "<="), (Lt, "lt", "<"))


def allowed_range(info: FieldInfo) -> str:
    """The field's bounds as text, e.g. '>= 0, <= 1' (empty when unbounded)."""
    parts = []
    for kind, attr, symbol in _BOUND_SYMBOLS:
        for meta in info.metadata:
            if isinstance(meta, kind):
                parts.append(f"{symbol} {getattr(meta, attr):g}")
    return ", ".join(parts)


def _default_text(value: Any) -> str:
    if isinstance(value, dict):
        return f"{len(value)} entries" if len(value) > 4 else ", ".join(f"{k}: {v:g}" for k, v in value.items())
    if isinstance(value, list):
        return "[]" if not value else f"{len(value)} items"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def rows(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    """(key, default, unit, range, description) for every leaf parameter."""
    out = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(rows(annotation, f"{key}."))
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        default = "(required)" if info.is_required() else _default_text(info.get_default(call_default_factory=True))
        out.append((key, default, str(extra.get("unit", "")), allowed_range(info), info.description or ""))
    return out


def markdown() -> str:
    lines = [
        "# Scenario parameters",
        "",
        "Generated from src/trustsim/scenario/schema/ by `python -m trustsim.scenario.reference`.",
        "Rates are per week unless the unit says otherwise. A source in brackets is cited in full in",
        "docs/sources.md; every other default is a stated assumption, discussed in docs/model.md.",
        "",
        "| key | default | unit | allowed | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, default, unit, bounds, doc in rows():
        lines.append(f"| `{key}` | {default} | {unit} | {bounds} | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
