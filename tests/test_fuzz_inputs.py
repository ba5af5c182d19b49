"""Every bad input answered: generated scenario files and --set values end in exit 0, or exit 2 with
one line, quickly, and never in a traceback.

The files are random YAML values, the national_2020 preset with one setting replaced by a random
value (to reach deep into the schema), random bytes, and hand-made hostile documents (alias bombs,
self-referring aliases, deep nesting, empty and multi-document files). `trustsim run --set` is
checked up to the point where the simulation would start.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from trustsim import cli, load_scenario

SECONDS = 20  # per input: generous for a loaded CI machine; a hang or a bomb takes far longer
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Started(Exception):
    """Raised instead of simulating: the input got past every check."""


def answer(args: list[str]) -> tuple[int, str]:
    """(exit code, stderr) of the command line, with the simulation replaced by _Started."""
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), \
            mock.patch.object(cli, "simulate", side_effect=_Started):
        try:
            cli.main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code
        except _Started:
            code = 0
    assert time.monotonic() - start < SECONDS, args
    return code, err.getvalue()


def check(args: list[str]) -> None:
    code, err = answer(args)
    assert code in (0, 2), (args, code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("trustsim: error: "), (args, err)
    assert "Traceback" not in err


def validate_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        check(["validate", str(path)])


scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
           | st.floats() | st.text(max_size=12) | st.sampled_from(["1e308", "-0", ".inf", "-.inf", ".nan", "2020-01-01"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4), max_leaves=16)


def _leaves(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, key))
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            yield from _leaves(value, (*prefix, i))
    else:
        yield prefix


PRESET = load_scenario("national_2020").model_dump(mode="json")
PATHS = sorted(set(_leaves(PRESET)), key=str)
KEYS = [".".join(map(str, path)) for path in PATHS]


@FUZZ
@given(values)
def test_random_yaml_documents(value):
    validate_text(yaml.safe_dump(value, allow_unicode=True))


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_the_preset_with_one_setting_replaced(path, value):
    data = yaml.safe_load(yaml.safe_dump(PRESET))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    validate_text(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_files_that_are_not_yaml(content):
    validate_text(content)


@FUZZ
@given(st.sampled_from(KEYS) | st.text(max_size=30), st.text(max_size=30) | values.map(
    lambda v: yaml.safe_dump(v, default_flow_style=True).strip()))
def test_set_values(key, value):
    with tempfile.TemporaryDirectory() as folder:
        check(["run", "--set", f"{key}={value}", "--quiet", "--out", folder])


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize("text", [
    "", "---\n", "# only a comment\n", "--- {}\n--- {}\n", BOMB, "a: &a [*a]\n", "&a [*a, *a]",
    "population: " + "{a: " * 5000 + "1" + "}" * 5000, "population: " + "[" * 200 + "]" * 200,
    "population:\n  people: .nan\n", "surveillance:\n  cameras: .inf\n", "population:\n  people: 1e400\n",
    "population: {people: 10000000000000000000000000000000}\n", "\u00e9\u4e2d: 1\n", "\x00\x01",
    "{" * 20, ": : :", "name: [1, 2]\n", "base: base\n", "base: [a]\n", "population: !!python/object:os.system {}\n",
], ids=range(21))
def test_hostile_documents(text):
    validate_text(text)


@pytest.mark.parametrize("value", ["inf", ".inf", "-.inf", "nan", ".nan", "1e400"])
def test_non_finite_numbers_are_refused_everywhere(value):
    code, err = answer(["run", "--set", f"surveillance.cameras={value}", "--quiet", "--out", "unused"])
    assert code == 2 and err.count("\n") == 1 and "surveillance.cameras" in err and "finite" in err, err
