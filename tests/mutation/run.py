"""`make mutate`: mutation testing of the domain rules, with a score per module.

Runs mutmut as `[tool.mutmut]` in pyproject.toml configures it, then the hand-made mutations of
hand_mutants.toml (what mutmut leaves alone: constants, tables, properties, cached functions),
each against its module's own tests. Surviving mutants listed in equivalent.toml, each with the
line it must still produce and why it changes nothing, are set aside; a listing that no longer
matches its mutant is reported as stale and counts as a survivor. Exits 1 when a module scores
under 90 % or a listing is stale. The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MUTMUT = Path(sys.executable).with_name("mutmut")
MINIMUM = 0.90
# mutmut's exit codes, as its `results` command reads them.
KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # failed tests, internal error, timeouts, type check
NO_TESTS = {5, 33}
SURVIVED = {0}
COPIED = ("closedloop", "surveys", "followups", "tests", "manage.py", "pyproject.toml")


@dataclass
class Tally:
    total: int = 0
    killed: int = 0
    equivalent: int = 0

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return 1.0 if counted == 0 else self.killed / counted


def main() -> int:
    os.chdir(ROOT)
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    tallies = {module: Tally() for module in modules}
    survivors = run_mutmut(modules, tallies)
    survivors += run_hand_mutants(tallies)
    stale = set_aside_equivalents(survivors, tallies)

    for name, diff in survivors:
        print(f"SURVIVED {name}\n{diff}\n")
    for message in stale:
        print(f"STALE equivalent listing: {message}")
    for module, tally in tallies.items():
        print(f"{module:32} {tally.killed:4} killed of {tally.total - tally.equivalent:4}  {100 * tally.score:5.1f} %")
    scores = {module: round(tally.score, 4) for module, tally in tallies.items()}
    min_score = min(scores.values())
    figures = {
        "mutation": "domain",
        "modules": scores,
        "min_score": min_score,
        "survivors": len(survivors),
        "equivalent": sum(tally.equivalent for tally in tallies.values()),
        "mutants": sum(tally.total for tally in tallies.values()),
        "stale_listings": len(stale),
    }
    print(json.dumps(figures))
    return 0 if min_score >= MINIMUM and not stale else 1


def run_mutmut(modules: list[str], tallies: dict[str, Tally]) -> list[tuple[str, str]]:
    """Run mutmut from scratch; count its mutants per module and return the survivors with their diffs."""
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    log = ROOT / "mutmut-run.log"
    with log.open("w") as out:
        done = subprocess.run([str(MUTMUT), "run"], stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        sys.exit(f"mutmut run failed ({done.returncode}); see {log}")
    survivors = []
    for module in modules:
        meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text())
        for name, code in meta["exit_code_by_key"].items():
            tally = tallies[module]
            tally.total += 1
            if code in KILLED:
                tally.killed += 1
            elif code in SURVIVED or code in NO_TESTS:
                survivors.append((name, mutant_diff(name)))
            else:
                sys.exit(f"{name}: mutmut could not check it (exit code {code}); see {log}")
    return survivors


def mutant_diff(name: str) -> str:
    shown = subprocess.run([str(MUTMUT), "show", name], capture_output=True, text=True, check=False).stdout
    return "\n".join(line for line in shown.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---"))


def run_hand_mutants(tallies: dict[str, Tally]) -> list[tuple[str, str]]:
    """Apply each hand-made mutation in a copy of the tree and run its module's tests there."""
    spec = tomllib.loads((HERE / "hand_mutants.toml").read_text())
    mutants = list(enumerate(spec["mutant"], start=1))
    for _, mutant in mutants:
        if (ROOT / mutant["module"]).read_text().count(mutant["find"]) != 1:
            sys.exit(f"hand mutant of {mutant['module']}: {mutant['find']!r} must occur exactly once")
    workers = os.cpu_count() or 1
    copies = [_copy_tree() for _ in range(workers)]
    try:
        with ThreadPoolExecutor(workers) as pool:
            batches = [mutants[index::workers] for index in range(workers)]
            results = [
                result for batch in pool.map(_run_batch, batches, copies, [spec["tests"]] * workers) for result in batch
            ]
    finally:
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)
    survivors = []
    for number, mutant, killed in sorted(results, key=lambda result: result[0]):
        tally = tallies[mutant["module"]]
        tally.total += 1
        tally.killed += killed
        if not killed:
            survivors.append((f"hand:{number}", f"{mutant['module']}\n-{mutant['find']}\n+{mutant['replace']}"))
    return survivors


def _copy_tree() -> Path:
    copy = Path(tempfile.mkdtemp(prefix="closedloop-mutant-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def _run_batch(batch: list, copy: Path, tests: dict[str, list[str]]) -> list[tuple[int, dict, bool]]:
    results = []
    for number, mutant in batch:
        path = copy / mutant["module"]
        original = path.read_text()
        path.write_text(original.replace(mutant["find"], mutant["replace"]))
        try:
            command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests[mutant["module"]]]
            done = subprocess.run(command, cwd=copy, capture_output=True, check=False)
        finally:
            path.write_text(original)
        # 1: a test failed; 2 or 4 would be a collection or usage error, which is no kill.
        results.append((number, mutant, done.returncode == 1))
    return results


def set_aside_equivalents(survivors: list[tuple[str, str]], tallies: dict[str, Tally]) -> list[str]:
    """Remove the listed equivalent mutants from `survivors`; return what no longer matches."""
    listed = tomllib.loads((HERE / "equivalent.toml").read_text()).get("mutant", [])
    surviving = dict(survivors)
    stale = []
    for entry in listed:
        diff = surviving.get(entry["name"])
        if diff is None:
            stale.append(f"{entry['name']} did not survive (killed now, or renumbered)")
        elif entry["line"].strip() not in {line[1:].strip() for line in diff.splitlines() if line.startswith("+")}:
            stale.append(f"{entry['name']} no longer makes {entry['line']!r}:\n{diff}")
        else:
            del surviving[entry["name"]]
            tallies[_module_of(entry["name"], tallies)].equivalent += 1
    survivors[:] = list(surviving.items())
    counts = Counter(entry["name"] for entry in listed)
    stale += [f"{name} is listed {count} times" for name, count in counts.items() if count > 1]
    return stale


def _module_of(mutant_name: str, modules: dict[str, Tally]) -> str:
    """`followups.sla.x_deadlines__mutmut_3` -> `followups/sla.py`."""
    return next(module for module in modules if mutant_name.startswith(module[:-3].replace("/", ".") + ".x"))


if __name__ == "__main__":
    sys.exit(main())
