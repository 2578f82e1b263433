"""``--parallel``: the outer loop of large elementwise and reduction work over
``numba.prange``, so that it runs on every core.

A loop nest is run in parallel only when its iterations are independent, and only
when it is large: PARALLEL_MIN_ELEMENTS or more elements.  Starting Numba's threads
costs a few microseconds, more than a small loop takes, so a loop whose size is only
known at run time gets both forms, the parallel one under ``if size >= ...``::

    if x.shape[0] * x.shape[1] >= 16384:
        add_in_parallel(x, add)  # for i in numba.prange(x.shape[0]): ...
    else:
        for i in range(x.shape[0]):
            ...

The ``numba.prange`` loop is a function of its own (``_prange``), compiled for its
prange loops only.

Independent iterations are those of an elementwise loop (each stores its own
elements) and the rows of a row reduction (each row has its own accumulator and its
own output element).  A reduction to one value is split into blocks of its outer
dimension, of a length fixed by the code (not by the number of threads): each block
is reduced on its own, in parallel, and the block results are then combined in
order, in one thread.  So a parallel sum gives the same bits on every run and on
any number of threads; it may differ from the serial sum in the last bits, since
it adds in another order.
"""

import libcst as cst

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..walk import contains, rename

# Below this many elements, a loop stays serial (docs/usage.md, "--parallel").
PARALLEL_MIN_ELEMENTS = 1 << 14
# A one-dimensional reduction to one value is reduced in blocks of this many
# elements (a longer one, in blocks of one row).
BLOCK_ELEMENTS = 4096


def _has_raise(stmts) -> bool:
    return contains(stmts, lambda node: isinstance(node, cst.Raise))


def _static_size(dims) -> int | None:
    total = 1
    for d in dims:
        if not isinstance(d, cst.Integer):
            return None
        total *= int(d.value)
    return total


def _names(stmts) -> tuple[list[str], set[str]]:
    """The names ``stmts`` read (in order of first appearance) and assign."""
    read, assigned = {}, set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node):
            node.value.visit(self)
            return False  # ``x.shape``: ``shape`` is no variable

        def visit_Arg(self, node):
            node.value.visit(self)
            return False  # ``dtype=...``: the keyword is no variable

        def visit_AssignTarget(self, node):
            targets = [node.target]
            while targets:
                target = targets.pop()
                if isinstance(target, cst.Name):
                    assigned.add(target.value)
                elif isinstance(target, (cst.Tuple, cst.List)):  # a, b = ...
                    targets += [e.value for e in target.elements]
                else:  # a[i] = ...: a and i are read
                    target.visit(self)
            return False

        def visit_For(self, node):
            if isinstance(node.target, cst.Name):
                assigned.add(node.target.value)

        def visit_Name(self, node):
            read.setdefault(node.value, None)

    visitor = Visitor()
    for stmt in stmts:
        stmt.visit(visitor)
    return list(read), assigned


def _prange(fn, loop: cst.For) -> list:
    """``loop`` with its outer ``range`` made ``numba.prange``, in a function of its own
    (``@numba.njit(parallel=...)``, for its prange loops only), and its call.

    The loop is moved out of the entry because ``parallel=True`` applies to a whole
    function: Numba would also analyse and convert the entry's array expressions,
    and its own size checks fail on some broadcasts.  Everything the loop writes
    that outlives it is an element of an array allocated before it, so the new
    function takes the arrays and values the loop reads and returns nothing."""
    body = loop.with_changes(iter=loop.iter.with_changes(func=sx.dotted("numba.prange")))
    read, assigned = _names([loop])
    local = fn.ns.local_names()
    params = [n for n in read if n in local and n not in assigned]
    stored = [t.target.value.value for t in _stores(loop)]
    name = fn.module.namespace.create(f"{stored[0] if stored else 'loop'}_in_parallel")
    fn.module.helpers[name] = cst.FunctionDef(
        name=cst.Name(name),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
        body=sx.block([body]),
        decorators=[fn.module.decorator(parallel=True)],
    )
    return [sx.expr_stmt(sx.call(name, *(sx.name(p) for p in params)))]


def _stores(loop) -> list:
    """The ``a[...] = ...`` targets in ``loop`` whose array is a plain name."""
    found = []

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node):
            if isinstance(node.target, cst.Subscript) and isinstance(node.target.value,
                                                                      cst.Name):
                found.append(node)

    loop.visit(Visitor())
    return found


def _choose(fn, dims, serial, parallel) -> list:
    """``parallel`` where the loop is large, else ``serial`` (both statement lists);
    a test of the size at run time when it is not known now."""
    size = _static_size(dims)
    if size is not None:
        return parallel if size >= PARALLEL_MIN_ELEMENTS else serial
    test = sx.compare(">=", sx.chain("*", list(dims)), sx.literal(PARALLEL_MIN_ELEMENTS))
    return [sx.if_(test, parallel, [s.deep_clone() for s in serial])]


def wanted(fn, dims, body) -> bool:
    """Whether ``--parallel`` is on and a loop nest over ``dims`` may run in parallel:
    an outer dimension that is not a static 1, a size that may reach the threshold,
    and no ``raise`` in the body (a parallel loop cannot stop the others)."""
    if not fn.module.parallel or not dims:
        return False
    if isinstance(dims[0], cst.Integer) and int(dims[0].value) <= 1:
        return False
    size = _static_size(dims)
    return (size is None or size >= PARALLEL_MIN_ELEMENTS) and not _has_raise(body)


def independent_loops(fn, dims, loops: list) -> list:
    """``loops``, one ``for`` nest over ``dims`` whose outer iterations are
    independent, with its outer loop over ``numba.prange`` where large enough."""
    if len(loops) != 1 or not isinstance(loops[0], cst.For) or not wanted(fn, dims, loops):
        return loops
    return _choose(fn, dims, loops, _prange(fn, loops[0]))


def reduction_loops(fn, accumulators, indices, dims, body) -> list:
    """The loops of full reductions ``accumulators`` (``Accumulator``s), each updated
    by ``body`` at every position of ``indices`` over ``dims``: serially,

        total = 0.0
        for i in range(n): ... total = total + x[i] ...

    or, in parallel, by blocks of the outer dimension reduced into a partial result
    each and combined in block order."""
    serial = [*(a.init() for a in accumulators), *sx.for_nest(indices, dims, body)]
    if not wanted(fn, dims, body):
        return serial
    outer, n = indices[0], dims[0]
    local = {a.name: fn.fresh(f"{a.name}_block") for a in accumulators}
    partials = {a.name: fn.fresh(f"{a.name}_blocks") for a in accumulators}
    renamed = [rename(stmt, local) for stmt in body]
    inner = sx.for_nest(indices[1:], dims[1:], renamed)
    if len(dims) > 1:  # a block is a row
        block, blocks, count, block_body = outer, fn.fresh("n_rows"), n, inner
    else:
        block, blocks = fn.fresh("block"), fn.fresh("n_blocks")
        length = sx.literal(BLOCK_ELEMENTS)
        count = sx.binop("//", sx.binop("+", n, sx.literal(BLOCK_ELEMENTS - 1)), length)
        start = sx.binop("*", sx.name(block), length)
        stop = sx.call("min", n, sx.binop("+", start, length))
        block_body = [sx.for_range(outer, [start, stop], inner)]
    parallel = [sx.assign(blocks, count)]
    for a in accumulators:
        parallel.append(sx.assign(partials[a.name], sx.call(
            "np.empty", sx.name(blocks), dtype=dtype_attr(a.acc_dtype))))
    loop_body = [*(rename(a.init(), local) for a in accumulators), *block_body,
                 *(sx.assign(sx.subscript(sx.name(partials[a.name]), [sx.name(block)]),
                             sx.name(local[a.name])) for a in accumulators)]
    parallel += _prange(fn, sx.for_range(block, [sx.name(blocks)], loop_body))
    parallel += [a.init() for a in accumulators]
    combine = [a.update(sx.subscript(sx.name(partials[a.name]), [sx.name(block)]))
               for a in accumulators]
    parallel.append(sx.for_range(block, [sx.name(blocks)], combine))
    return _choose(fn, dims, serial, parallel)
