"""CLI start-up benchmark: how long `uec --help` and light commands take, and what they import.

Peer: `python -c pass` (the interpreter alone), so the figure is what `uec` adds. We print the median
wall and CPU seconds of each command over a few runs and the heavy libraries each one imported
(read from ``python -X importtime``). CPU seconds matter on a busy machine, where wall time mostly
measures the queue for a core.

Target (issue 15): under 1 s for `uec --help` and light commands; none of pandas, SciPy,
statsmodels, numba or LightGBM imported by them.

Run: ``.venv/bin/python bench/cli_startup.py [--runs N]``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uec

HEAVY = ("scipy", "statsmodels", "numba", "lightgbm", "pandas", "duckdb", "pyarrow", "jinja2")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``python ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    run = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, capture_output=True, text=True,
                         check=True)
    tops = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in run.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}
    return sorted(tops & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "PYTHONPATH": str(Path(uec.__file__).resolve().parents[1]),
               "UEC_STORE": str(Path(d) / "uec.duckdb")}
        commands = {"python -c pass": ["-c", "pass"], "uec --help": ["-m", "uec", "--help"],
                    "uec status": ["-m", "uec", "status"], "uec jobs list": ["-m", "uec", "jobs", "list"],
                    "uec standards --help": ["-m", "uec", "standards", "--help"],
                    "uec forecast --help": ["-m", "uec", "forecast", "--help"]}
        results = {}
        print(f"{'command':24} {'wall s':>8} {'cpu s':>8}  heavy imports")
        for name, args in commands.items():
            runs = [timed(args, env) for _ in range(opts.runs)]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            heavy = heavy_imports(args, env)
            results[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "heavy": heavy}
            print(f"{name:24} {wall:8.2f} {cpu:8.2f}  {', '.join(heavy) or '-'}")
    print(json.dumps({"bench": "cli_startup", "load_average": os.getloadavg()[0], "results": results}))


if __name__ == "__main__":
    main()
