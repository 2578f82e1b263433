"""Rebuild every example: run its build.py into graph.pkl, transpile it to kernel.py.

    python generated_examples/regenerate.py            # rewrite the committed files
    python generated_examples/regenerate.py --check    # exit 1 if any file is stale

Each example lives in its own folder: build.py defines `inputs` and `outputs`, and an
optional transpile.args holds extra command-line flags (e.g. --allow-module pymc).
"""

import argparse
import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = sorted(p.parent.name for p in HERE.glob("*/build.py"))


def build(example: str, out_dir: Path) -> tuple[bytes, str]:
    """(graph.pkl bytes, kernel.py text) for ``example``, built in a fresh process."""
    out_dir.mkdir(parents=True, exist_ok=True)
    graph = out_dir / "graph.pkl"
    cmd = [sys.executable, "-m", "transpile", "dump", str(HERE / example / "build.py"),
           "-o", str(graph)]
    subprocess.run(cmd, check=True, cwd=HERE / example)
    extra = extra_args(example)
    kernel = subprocess.run([sys.executable, "-m", "transpile", str(graph), *extra],
                            check=True,
                            capture_output=True, text=True, cwd=out_dir).stdout
    return graph.read_bytes(), kernel


def extra_args(example: str) -> list[str]:
    args_file = HERE / example / "transpile.args"  # extra CLI flags, if any
    return args_file.read_text().split() if args_file.exists() else []


def digest(path: Path, example: str) -> str:
    from transpile.load import load_file

    args = extra_args(example)
    allowed = [args[k + 1] for k, a in enumerate(args) if a == "--allow-module"]
    return load_file(path, allowed).digest


def _diff(path: Path, new: str, limit: int = 80) -> str:
    """The committed kernel against the regenerated one, as a unified diff (its
    first ``limit`` lines)."""
    lines = list(difflib.unified_diff(path.read_text().splitlines(), new.splitlines(),
                                      f"{path.parent.name}/kernel.py (committed)",
                                      f"{path.parent.name}/kernel.py (regenerated)",
                                      lineterm=""))
    more = [f"... {len(lines) - limit} more lines"] if len(lines) > limit else []
    return "\n".join(lines[:limit] + more)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("examples", nargs="*", default=EXAMPLES)
    args = parser.parse_args()
    stale = []
    for example in args.examples:
        folder = HERE / example
        scratch = Path(tempfile.mkdtemp(prefix=f"{example}-"))
        data, kernel = build(example, scratch)
        # Pickles of one graph differ byte-wise between runs (timings, paths): a
        # graph.pkl is stale when the graph it holds differs, by transpile's digest.
        same_graph = (folder / "graph.pkl").exists() and digest(
            folder / "graph.pkl", example) == digest(scratch / "graph.pkl", example)
        same_kernel = (folder / "kernel.py").exists() and \
            (folder / "kernel.py").read_text() == kernel
        if args.check:
            stale += [f"{example}/{n}" for n, ok in (("graph.pkl", same_graph),
                                                     ("kernel.py", same_kernel)) if not ok]
            if not same_kernel and (folder / "kernel.py").exists():
                print(_diff(folder / "kernel.py", kernel), file=sys.stderr)
        else:
            if not same_graph:
                (folder / "graph.pkl").write_bytes(data)
            (folder / "kernel.py").write_text(kernel)
        for p in scratch.iterdir():
            p.unlink()
        scratch.rmdir()
        print(f"{example}: {'checked' if args.check else 'written'}")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
