"""Run every benchmark (or those named), each in its own process, and print a summary table.

Run: `.venv/bin/python -m bench [--quick] [assess progress speech telegram turns voice whatsapp]`
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.table import table

# Each module with the arguments `--quick` adds: fewer rounds or a smaller load, where the module has them.
MODULES: dict[str, list[str]] = {
    "assess": ["--answers", "4"],
    "progress": ["--learners", "1000", "--answers", "10000", "--runs", "3", "--no-postgres"],
    "speech": [],
    "telegram": ["--learners", "10", "--rounds", "2"],
    "turns": ["--learners", "10"],
    "voice": ["--repeats", "1"],
    "whatsapp": ["--seconds", "5"],
}


def main() -> None:
    """Parse the arguments, run the chosen modules in turn, print how each went."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help=f"benchmarks to run (default: {', '.join(MODULES)})")
    parser.add_argument("--quick", action="store_true", help="fewer rounds or a smaller load")
    args = parser.parse_args()
    if unknown := sorted(set(args.modules) - set(MODULES)):
        parser.error(f"unknown benchmark: {', '.join(unknown)}")
    rows: list[list[object]] = []
    for name in args.modules or list(MODULES):
        command = [sys.executable, "-m", f"bench.{name}", *(MODULES[name] if args.quick else [])]
        print(f"\n## {name}: {' '.join(command[1:])}\n", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        rows.append([name, "ok" if code == 0 else f"failed ({code})", f"{time.perf_counter() - started:.1f}"])
    print("\n" + table(["benchmark", "result", "seconds"], rows))
    sys.exit(0 if all(row[1] == "ok" for row in rows) else 1)


if __name__ == "__main__":
    main()
