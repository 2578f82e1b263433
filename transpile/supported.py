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
    # Ops of transpile's own graph passes (transpile/logsumexp.py) never come in a graph.
    ops["graph"] = [(cls, fn) for cls, fn in ops["graph"]
                    if not cls.__module__.startswith("transpile.")]
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
        *numba_registry_section(),
    ]
    return "\n".join(lines)


def numba_registry() -> list[type]:
    """Every Op class PyTensor's own Numba backend has a dispatch for."""
    import pytensor.link.numba.dispatch  # noqa: F401  (registers Numba's dispatches)
    from pytensor.graph.op import Op
    from pytensor.link.numba.dispatch import basic

    classes = set()
    for name in ("numba_funcify", "numba_funcify_and_cache_key"):
        dispatcher = getattr(basic, name, None)
        for cls in getattr(dispatcher, "registry", {}):
            if isinstance(cls, type) and issubclass(cls, Op):
                classes.add(cls)
    return sorted(classes, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def status(cls) -> str:
    """How transpile handles graphs with an Op of class ``cls``."""
    from .rebuild import REWRITTEN_AWAY
    from .registry import _LOWERINGS, _SCALAR_LOWERINGS

    name = f"{cls.__module__}.{cls.__qualname__}"
    for klass in cls.__mro__:
        fn = _LOWERINGS.get(klass) or _SCALAR_LOWERINGS.get(klass)
        if fn is not None:
            via = "" if klass is cls else f" (as `{klass.__name__}`)"
            return f"lowered: `{fn.__module__}.{fn.__name__}`{via}"
    if name in REWRITTEN_AWAY:
        return "rewritten away by PyTensor's rewrites (refused with --no-rewrite)"
    if cls.__module__.startswith("pytensor.sparse"):
        return "not supported yet: sparse matrices"
    if cls.__module__.startswith("pytensor.typed_list"):
        return "not supported yet: typed lists"
    return "not supported: refused as an unsupported Op"


def numba_registry_section() -> list[str]:
    classes = numba_registry()
    rows = [f"| `{c.__module__}.{c.__qualname__}` | {status(c)} |" for c in classes]
    lowered = sum("lowered" in r for r in rows)
    return [
        f"## Every Op of PyTensor's Numba backend ({len(classes)}; {lowered} lowered)",
        "",
        "The Op classes PyTensor's own Numba mode has a dispatch for, and what",
        "transpile does with each.  `make conformance` runs them on PyTensor's",
        "own Numba test suite and writes docs/conformance.md.",
        "",
        "| Op class | status |",
        "| --- | --- |",
        *rows,
        "",
    ]


if __name__ == "__main__":
    sys.stdout.write(markdown())
