"""``python -m conformance``: fetch the suite, run it with the plugin, write the report.

    python -m conformance                      # all of tests/link/numba, then the doc
    python -m conformance test_shape.py -k Reshape
    python -m conformance --failures           # only the tests with non-passing cases
    python -m conformance --jobs 2             # two pytest processes at once
    python -m conformance --report-only        # rewrite the doc from the results
    python -m conformance -- --runslow         # anything after -- goes to pytest

Paths are taken relative to ``tests/link/numba`` of the fetched tree (or to the tree).
"""

import argparse
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from . import report
from .fetch import fetch_tests
from .plugin import read_results, results_path

REPO = Path(__file__).resolve().parent.parent
SUITE = "tests/link/numba"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help=f"test files or node ids (default: {SUITE})")
    p.add_argument("-k", dest="keyword", help="pytest's -k expression")
    p.add_argument("--root", type=Path, default=REPO / ".conformance",
                   help="the working directory (default: .conformance)")
    p.add_argument("--doc", type=Path, default=REPO / "docs" / "conformance.md",
                   help="the report to write (default: docs/conformance.md)")
    p.add_argument("--jobs", "-n", type=int, default=1,
                   help="pytest processes run at once, each on a share of the test files "
                   "(not pytest-xdist: the suite's test ids hold memory addresses, which "
                   "differ between xdist workers)")
    p.add_argument("--failures", action="store_true",
                   help="re-run only the tests with a case that did not pass "
                   "(skipped cases, which cannot be pickled, aside)")
    p.add_argument("--force", action="store_true", help="re-check unchanged cases too")
    p.add_argument("--report-only", action="store_true",
                   help="do not run anything: rewrite the doc from the results")
    p.add_argument("--no-report", action="store_true", help="run, but leave the doc alone")
    return p


def _targets(src: Path, paths) -> list[str]:
    targets = []
    for path in paths or [SUITE]:
        file, sep, rest = path.partition("::")
        if (src / SUITE / file).exists():
            file = f"{SUITE}/{file}"
        targets.append(file + sep + rest)
    return targets


def _failing_nodeids(root: Path, version: str, targets) -> list[str]:
    records = read_results(results_path(root, version)).values()
    nodeids = {_addressable(r["nodeid"]) for r in records
               if r.get("outcome") not in ("pass", "skipped")}
    return sorted(n for n in nodeids if any(n.startswith(t) for t in targets))


def _addressable(nodeid: str) -> str:
    """A node id pytest can select in a new process: a parametrized test whose id
    holds a memory address (``[<function chisquare at 0x7f...>]``) is run whole."""
    return nodeid.partition("[")[0] if " at 0x" in nodeid else nodeid


def _shares(src: Path, targets: list[str], jobs: int) -> list[list[str]]:
    """``targets`` split into at most ``jobs`` lists of about equal work: directories
    become their test files, and files (weighed by size) and node ids are dealt out
    largest first to the lightest share."""
    items: list[tuple[int, str]] = []
    for target in targets:
        path = src / target
        if "::" not in target and path.is_dir():
            items += [(f.stat().st_size, str(f.relative_to(src)))
                      for f in sorted(path.rglob("test_*.py"))]
        else:
            file = src / target.partition("::")[0]
            items.append((file.stat().st_size if "::" not in target and file.exists()
                          else 1, target))
    shares: list[tuple[int, list[str]]] = [(0, []) for _ in range(min(jobs, len(items)))]
    for weight, item in sorted(items, reverse=True):
        k = min(range(len(shares)), key=lambda i: shares[i][0])
        shares[k] = (shares[k][0] + weight, shares[k][1] + [item])
    return [sorted(share) for _, share in shares]


def _own_compiledir(flags: str, root: Path) -> str:
    """PyTensor's flags with a compile directory of this root's own (unless the user
    chose one): PyTensor's Numba mode caches pickled PyTensor objects there, and a
    cache shared by two PyTensor versions makes that mode fail tests it passes."""
    if "compiledir" in flags:
        return flags
    return ",".join(filter(None, [flags, f"base_compiledir={root / 'compiledir'}"]))


def run_suite(args, src: Path, version: str) -> int:
    targets = _targets(src, args.paths)
    force = args.force
    if args.failures:
        targets = _failing_nodeids(args.root, version, targets)
        force = True
        if not targets:
            print("conformance: no failing cases recorded")
            return 0
    base = [sys.executable, "-m", "pytest", "-p", "conformance.plugin",
            "-p", "no:cacheprovider", "-q", "-rN", f"--rootdir={src}",
            f"--conformance-root={args.root}"]
    options = [*args.pytest]
    if args.keyword:
        options += ["-k", args.keyword]
    if force:
        options.append("--conformance-force")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    env["PYTENSOR_FLAGS"] = _own_compiledir(env.get("PYTENSOR_FLAGS", ""), args.root)
    shares = _shares(src, targets, args.jobs) if args.jobs > 1 else [targets]
    procs = []
    for k, share in enumerate(shares):
        command = [*base, *share, *options]
        print("conformance:", " ".join(command[1:]), flush=True)
        # Each process appends its records to the one results file (plugin.py writes
        # each test's records in one append); with several, each logs to its own file.
        log = None if len(shares) == 1 else open(args.root / f"job-{k}.log", "w")  # noqa: SIM115
        procs.append((subprocess.Popen(command, cwd=src, env=env, stdout=log,
                                       stderr=subprocess.STDOUT if log else None), log))
    statuses = []
    for proc, log in procs:
        statuses.append(proc.wait())
        if log is not None:
            log.close()
            print(f"conformance: {log.name}: pytest exited with status {statuses[-1]}")
    return max(statuses, key=lambda status: status not in (0, 1))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = _parser().parse_args(argv[:split])
    args.pytest = argv[split + 1:]
    args.root = args.root.resolve()
    version = importlib.metadata.version("pytensor")
    if not args.report_only:
        src = fetch_tests(args.root, version)
        status = run_suite(args, src, version)
        if status not in (0, 1):  # 1: some tests failed, as expected of the suite
            print(f"conformance: pytest exited with status {status}", file=sys.stderr)
    if not args.no_report:
        report.write(results_path(args.root, version), args.doc, version)
        print(f"conformance: wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
