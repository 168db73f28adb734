"""The cycle kernel and everything it is handed are compiled once per machine, not once per
process: numba keeps them in its on-disk cache, so a new process (a CLI run, a web worker)
loads them instead of spending seconds compiling before its first model runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).parent

RUN_MODELS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from numba.core import event
    from hecon_test_models import gompertz_table, three_state, user_style
    from permedhub.hecon.markov import MarkovModel
    from permedhub.hecon.spec import load_model

    table = gompertz_table(Path(sys.argv[1]) / "table.csv")
    models = [MarkovModel(load_model(doc)) for doc in (user_style(table), three_state())]
    with event.install_recorder("numba:compile") as compiled:
        for model in models:
            model.run(n_draws=20, seed=1)
    names = {e.data["dispatcher"].py_func.__qualname__ for _, e in compiled.buffer}
    print(json.dumps(sorted(names)))
    """
)


def _compiled_in_a_new_process(cache: Path, folder: Path) -> list[str]:
    environment = os.environ | {
        "NUMBA_CACHE_DIR": str(cache),
        "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path]),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_MODELS, str(folder)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_second_process_compiles_nothing_before_its_models_run(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    first = _compiled_in_a_new_process(cache, tmp_path)
    assert "cycle_loop" in first, first  # an empty cache: the kernel is compiled and kept
    assert _compiled_in_a_new_process(cache, tmp_path) == []
