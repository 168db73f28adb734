"""`permedhub --help` and the groups' help start without the numerical and web stacks: the
library modules are imported inside the commands that use them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "scipy", "pandas", "plotly", "fastapi", "sqlalchemy", "uvicorn", "dask")

# Runs the command in a fresh interpreter, then reports which heavy packages it imported.
PROBE = """
import json, sys
from typer.main import get_command
from permedhub.cli.main import app
try:
    get_command(app)(sys.argv[1:], prog_name="permedhub")
except SystemExit as exit:
    code = exit.code
# A module registered for lazy loading (importlib's _LazyModule) has not been executed yet.
loaded = {name for name, m in sys.modules.items() if type(m).__name__ != "_LazyModule"}
heavy = sorted({name.split(".")[0] for name in loaded} & set(json.loads(HEAVY)))
print("\\nPROBE", json.dumps({"code": code, "heavy": heavy}))
"""


def probe(*args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY))), *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["trials", "--help"],
        ["trials", "gsd", "--help"],
        ["trials", "simulate", "--help"],
        ["db", "--help"],
        ["db", "load", "--help"],
        ["users", "--help"],
        ["hecon", "--help"],
        ["hecon", "run", "--help"],
        ["calls", "--help"],
        ["calls", "decide", "--help"],
        ["federation", "--help"],
        ["federation", "query", "--help"],
        ["node", "--help"],
        ["node", "serve", "--help"],
        ["match", "--help"],
        ["match", "group", "--help"],
    ],
)
def test_help_imports_no_heavy_package(args: list[str]) -> None:
    assert probe(*args) == {"code": 0, "heavy": []}


def test_the_probe_sees_a_command_that_does_import_them() -> None:
    outcome = probe("trials", "simon", "--p0", "0.1", "--p1", "0.3", "--json")
    assert outcome["code"] == 0 and {"numpy", "scipy"} <= set(outcome["heavy"])  # type: ignore[arg-type]
