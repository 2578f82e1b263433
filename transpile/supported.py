"""The table of supported Ops, generated from the registry.

    python -m transpile.supported > docs/supported-ops.md

tests/test_docs.py fails when the committed table is stale.
"""

import sys


def _row(cls, fn) -> str:
    return f"| `{cls.__module__}.{cls.__qualname__}` | `{fn.__module__}.{fn.__name__}` |"


def markdown() -> str:
    from . import lower  # noqa: F401  (registers the lowerings)
    from .registry import registered_ops

    ops = registered_ops()
    lines = [
        "# Supported Ops",
        "",
        "Generated from the lowering registry by `python -m transpile.supported`;",
        "do not edit by hand.  Lookup walks each Op's class hierarchy, so subclasses of",
        "these classes are supported too unless they need a lowering of their own.",
        "",
        f"## Graph-level Ops ({len(ops['graph'])})",
        "",
        "| Op class | lowering |",
        "| --- | --- |",
        *(_row(cls, fn) for cls, fn in ops["graph"]),
        "",
        f"## Scalar Ops inside Elemwise and Composite ({len(ops['scalar'])})",
        "",
        "| Op class | lowering |",
        "| --- | --- |",
        *(_row(cls, fn) for cls, fn in ops["scalar"]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
