"""Load every pickle of the conformance corpus with ``transpile.load.load_file``.

    python conformance/corpus_load.py [CORPUS_DIR]     (default: .conformance/corpus)

Prints one line per file that fails to load, then a count.  For work on the loader:
the corpus holds every graph of PyTensor's Numba test suite (``make conformance``
writes it).
"""

import sys
from pathlib import Path

from transpile.errors import TranspileError
from transpile.load import load_file


def main(argv) -> int:
    corpus = Path(argv[0] if argv else Path(__file__).resolve().parent.parent
                  / ".conformance" / "corpus")
    paths = sorted(corpus.rglob("*.pkl"))
    failures = 0
    for path in paths:
        try:
            load_file(path)
        except TranspileError as exc:
            failures += 1
            print(f"{path.relative_to(corpus)}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a loader bug: report and go on
            failures += 1
            print(f"{path.relative_to(corpus)}: internal error: {type(exc).__name__}: {exc}")
    print(f"{len(paths) - failures} of {len(paths)} pickles load")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
