"""Rewrite: apply the graph rewrites PyTensor's own Numba mode applies.

The query is Numba mode's (``fast_run`` + ``numba``) minus every rewrite tagged
``inplace``: in-place Ops are how PyTensor reuses buffers, and in a vendored module
they would write into the caller's arrays.  (The lowerings never honour an Op's
``destroy_map`` either, so a graph that already holds in-place Ops, as a compiled
``Function``'s does, is still lowered without mutation.)
"""

import warnings

INCLUDE = ("fast_run", "numba")
EXCLUDE = ("inplace",)
# Scan's memory-saving rewrites shrink a state's buffer to a circular one of a few
# entries when only the last values are used.  A generated loop then needs a modulo
# per access and the outer graph a page of index arithmetic; full-length buffers
# keep the loop as plain as a hand-written one, for n_steps * state-size memory.
SKIPPED = frozenset({"scan_save_mem_prealloc", "scan_save_mem_no_prealloc"})


def query():
    from pytensor.graph.rewriting.db import RewriteDatabaseQuery

    return RewriteDatabaseQuery(include=list(INCLUDE), exclude=list(EXCLUDE))


def rewrite(fgraph):
    """Rewrite ``fgraph`` in place and return it."""
    from pytensor.compile.mode import optdb

    from pytensor.graph.rewriting.basic import SequentialGraphRewriter

    rewriters = [r for r in optdb.query(query()).data
                 if getattr(r, "name", None) not in SKIPPED]
    import pytensor

    # The same graph must give the same module on every machine: without this,
    # whether a C++ compiler is configured changes which fusions PyTensor makes
    # (and constant folding could fall back to compiling C).
    with warnings.catch_warnings(), pytensor.config.change_flags(cxx=""):
        warnings.simplefilter("ignore")
        SequentialGraphRewriter(*rewriters).rewrite(fgraph)
    return fgraph


def rewrite_inner(inputs, outputs):
    """Rewrite an inner graph (a Scan body): returns new ``(inputs, outputs)``."""
    from pytensor.graph.fg import FunctionGraph

    fgraph = FunctionGraph(list(inputs), list(outputs), clone=True)
    rewrite(fgraph)
    return fgraph.inputs, fgraph.outputs
