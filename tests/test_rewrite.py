"""transpile.rewrite: InsertionOrderedSet, ordered_sets(), and what rewriting may do
to a graph (no in-place Ops; nothing at all with --no-rewrite)."""

import ast
import importlib
import inspect
import random
import sys
import types

import pytensor
import pytensor.tensor as pt
import pytest
from comments import comments, named_ops
from pytensor.compile.mode import Mode
from pytensor.graph.basic import io_toposort
from pytensor.printing import debugprint
from pytensor.scan.op import Scan
from pytensor.tensor import extra_ops
from pytensor.tensor.extra_ops import broadcast_shape_iter

from transpile.assemble import Options, generate
from transpile.load import load_object
from transpile.rewrite import (
    ORDERED_SET_MODULES,
    InsertionOrderedSet,
    ordered_sets,
    rewrite,
    rewrite_inner,
)

# Small ints whose hash order differs from this insertion order: a plain set
# iterates them as [1, 50, 3, 100].
ITEMS = [100, 3, 50, 1]


# ---- InsertionOrderedSet -----------------------------------------------------------


def test_iterates_in_insertion_order_unlike_a_set():
    assert list(set(ITEMS)) != ITEMS  # the order under test is not a set's anyway
    s = InsertionOrderedSet(ITEMS + [3, 100])
    assert list(s) == ITEMS
    assert len(s) == 4 and s == set(ITEMS)
    assert 50 in s and 7 not in s
    s.add(3)  # already there: keeps its place
    s.add(7)
    assert list(s) == [*ITEMS, 7]
    assert repr(s) == "InsertionOrderedSet([100, 3, 50, 1, 7])"
    assert not InsertionOrderedSet() and InsertionOrderedSet([0])


def test_add_discard_remove_pop_clear():
    s = InsertionOrderedSet(ITEMS)
    s.discard(50)
    s.discard(12345)  # absent: no error, as set.discard
    assert list(s) == [100, 3, 1]
    s.remove(100)
    with pytest.raises(KeyError):
        s.remove(100)
    assert list(s) == [3, 1]
    s.add(100)
    assert s.pop() == 3  # the oldest element
    assert list(s) == [1, 100]
    assert s.pop() == 1 and s.pop() == 100
    with pytest.raises(KeyError):
        s.pop()
    s = InsertionOrderedSet(ITEMS)
    s.clear()
    assert len(s) == 0 and list(s) == []


def test_set_methods_agree_with_set_and_keep_order():
    s = InsertionOrderedSet(ITEMS)
    a, b = [7, 50, 8], {1, 2, 100}
    union = s.union(a, b)
    assert isinstance(union, InsertionOrderedSet)
    assert union == set(ITEMS).union(a, b)
    assert list(union)[:6] == [*ITEMS, 7, 8]
    assert list(s) == ITEMS  # union does not modify
    inter = s.intersection(b, [100, 1, 3])
    assert isinstance(inter, InsertionOrderedSet) and list(inter) == [100, 1]
    assert inter == set(ITEMS).intersection(b, [100, 1, 3])
    diff = s.difference(a, [1])
    assert isinstance(diff, InsertionOrderedSet) and list(diff) == [100, 3]
    assert diff == set(ITEMS).difference(a, [1])
    assert s.issubset(set(ITEMS) | {9}) and s.issubset(ITEMS) and not s.issubset([1, 3])
    assert s.issuperset([1, 3]) and not s.issuperset([1, 9])
    assert s.isdisjoint([9, 10]) and not s.isdisjoint([9, 1])
    copy = s.copy()
    copy.add(9)
    assert 9 not in s and isinstance(copy, InsertionOrderedSet)


def test_in_place_updates_keep_order():
    s = InsertionOrderedSet(ITEMS)
    s.update([7, 100], (8,))
    assert list(s) == [*ITEMS, 7, 8]
    s.difference_update([7], {100})
    assert list(s) == [3, 50, 1, 8]
    s.intersection_update([8, 1, 3, 99], {1, 3, 8, 50})
    assert list(s) == [3, 1, 8] and isinstance(s, InsertionOrderedSet)


def test_operators_agree_with_set():
    s = InsertionOrderedSet(ITEMS)
    other = {1, 2, 100, 7}
    plain = set(ITEMS)
    for op in ("__or__", "__and__", "__sub__", "__xor__"):
        got = getattr(s, op)(other)
        assert isinstance(got, InsertionOrderedSet), op
        assert got == getattr(plain, op)(other), op
    assert list(s | other)[:4] == ITEMS
    assert list(s - other) == [3, 50]
    # with the builtin set on the left, Python falls back on our reflected ops
    assert other | s == other | plain and other & s == other & plain
    assert other - s == other - plain and other ^ s == other ^ plain
    assert s == plain and s != plain | {9} and plain == s
    assert s <= plain and not s < plain and s < plain | {9} and s >= {1} and s > {1}
    t = InsertionOrderedSet(ITEMS)
    same = t
    t |= [7]
    t &= {7, 1, 3, 100}
    t -= {100}
    t ^= {3, 42}
    assert t is same and list(t) == [1, 7, 42]
    with pytest.raises(TypeError):
        hash(s)  # mutable, like set


def test_intersection_operator_keeps_insertion_order():
    s = InsertionOrderedSet(ITEMS)
    other = {1, 2, 100, 7}  # a plain set iterates these as [1, 2, 100, 7]
    assert list(s.intersection(other)) == [100, 1]
    assert list(s & other) == [100, 1]
    assert list(other & s) == [100, 1]


def test_random_operation_sequences_agree_with_set():
    rng = random.Random(2026)
    for _ in range(200):
        s, plain, order = InsertionOrderedSet(), set(), []
        for _ in range(30):
            x = rng.randrange(12)
            action = rng.choice(["add", "discard", "remove", "pop", "in"])
            if action == "add":
                s.add(x)
                if x not in plain:
                    order.append(x)
                plain.add(x)
            elif action == "discard":
                s.discard(x)
                plain.discard(x)
                order = [y for y in order if y != x]
            elif action == "remove":
                if x in plain:
                    s.remove(x)
                    plain.remove(x)
                    order.remove(x)
                else:
                    with pytest.raises(KeyError):
                        s.remove(x)
            elif action == "pop" and plain:
                got = s.pop()
                assert got == order.pop(0)
                plain.remove(got)
            assert (x in s) == (x in plain)
            assert s == plain and len(s) == len(plain) and list(s) == order


def test_has_every_public_method_of_set():
    missing = sorted(m for m in dir(set)
                     if not m.startswith("_") and not hasattr(InsertionOrderedSet, m))
    assert missing == []


def test_has_every_set_method_the_patched_modules_call():
    """Inside ordered_sets(), code in these modules gets an InsertionOrderedSet where
    it asked for a set: every set method it calls must exist."""
    set_methods = {m for m in dir(set) if not m.startswith("_")}
    for name in ORDERED_SET_MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        called = {n.func.attr for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        for method in called & set_methods:
            assert hasattr(InsertionOrderedSet, method), f"{name} calls .{method}()"


# ---- ordered_sets() ----------------------------------------------------------------


def _globals(module) -> dict:
    return dict(vars(module))


def _same_globals(before: dict, module) -> bool:
    after = vars(module)
    return before.keys() == after.keys() and all(
        after[k] is v for k, v in before.items())


def test_ordered_sets_patches_set_inside_the_block_only():
    assert ORDERED_SET_MODULES  # broadcast_shape_iter's module at least
    modules = [importlib.import_module(name) for name in ORDERED_SET_MODULES]
    assert extra_ops in modules
    before = [_globals(m) for m in modules]
    with ordered_sets():
        for module in modules:
            assert module.set is InsertionOrderedSet
    for module, saved in zip(modules, before, strict=True):
        assert _same_globals(saved, module)
        assert "set" not in vars(module)  # the builtin again, as before


def test_ordered_sets_restores_the_globals_when_the_block_raises():
    before = _globals(extra_ops)
    with pytest.raises(RuntimeError, match="inside"):
        with ordered_sets():
            assert extra_ops.set is InsertionOrderedSet
            raise RuntimeError("inside")
    assert _same_globals(before, extra_ops)


def test_ordered_sets_restores_a_modules_own_set(monkeypatch):
    fake = types.ModuleType("transpile_test_fake_module")
    own_set = object()
    fake.set = own_set
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    before = _globals(fake)
    with ordered_sets([fake.__name__, "pytensor.tensor.extra_ops"]):
        assert fake.set is InsertionOrderedSet and extra_ops.set is InsertionOrderedSet
    assert fake.set is own_set and _same_globals(before, fake)
    assert "set" not in vars(extra_ops)


def test_ordered_sets_restores_what_it_patched_when_a_module_is_missing():
    before = _globals(extra_ops)
    with pytest.raises(ModuleNotFoundError):
        with ordered_sets(["pytensor.tensor.extra_ops", "no_such_module_xyz"]):
            pass
    assert _same_globals(before, extra_ops)


def _first_length_owner(vectors):
    """The vector whose length broadcast_shape_iter keeps (and asserts the others
    equal to)."""
    (dim,) = broadcast_shape_iter(vectors)
    assert dim.owner is not None and type(dim.owner.op).__name__ == "Assert"
    first_length = dim.owner.inputs[0]  # x.shape[0]: Subtensor(Shape(x), 0)
    return first_length.owner.inputs[0].owner.inputs[0]


def test_broadcast_shape_iter_keeps_the_first_length_in_argument_order():
    """The rewrite that made one graph give `X_0 == y_0` in one process and
    `y_0 == X_0` in the next: with ordered sets it follows the argument order."""
    for _ in range(8):  # fresh variables at new addresses
        x, y, z = pt.vector("x"), pt.vector("y"), pt.vector("z")
        with ordered_sets():
            assert _first_length_owner([x, y]) is x
            assert _first_length_owner([y, x]) is y
            assert _first_length_owner([z, x, y]) is z
            assert _first_length_owner([y, z, x]) is y


# ---- rewrite(): no in-place Ops; --no-rewrite: the graph as given -----------------


def _graph():
    """Work PyTensor's fast_run would do in place: Elemwise, Gemv, IncSubtensor,
    Scan."""
    X, y, w = pt.matrix("X"), pt.vector("y"), pt.vector("w")
    p = pt.sigmoid(X @ w)
    loss = -pt.mean(y * pt.log(p) + (1 - y) * pt.log(1 - p))
    grad_w = pytensor.grad(loss, w)
    bumped = pt.inc_subtensor((y * 2)[1:3], 1.0)
    xs = pytensor.scan(lambda a_t, x_tm1: x_tm1 * a_t + 1.0, sequences=[y],
                       outputs_info=[pt.zeros(())], return_updates=False)
    return [X, y, w], [loss, grad_w, pt.exp(w) + 1, bumped, xs]


def _destroyers(nodes):
    return [node for node in nodes if getattr(node.op, "destroy_map", None)]


def test_pytensors_own_fast_run_would_make_this_graph_in_place():
    """The control for the next test: the graph does have in-place opportunities."""
    inputs, outputs = _graph()
    with pytensor.config.change_flags(cxx=""):
        mode = Mode(linker="py", optimizer="fast_run")
        fn = pytensor.function(inputs, outputs, mode=mode)
    assert _destroyers(fn.maker.fgraph.apply_nodes)


def test_rewrite_leaves_no_in_place_op():
    fgraph = load_object(_graph()).fgraph
    before = {type(n.op).__name__ for n in fgraph.apply_nodes}
    assert rewrite(fgraph) is fgraph
    nodes = list(fgraph.apply_nodes)
    assert {type(n.op).__name__ for n in nodes} != before  # it did rewrite
    assert not _destroyers(nodes), [str(n) for n in _destroyers(nodes)]
    scans = [n for n in nodes if isinstance(n.op, Scan)]
    assert scans, "the Scan was rewritten away: the inner-graph check would be empty"
    for node in scans:
        inner_in, inner_out = rewrite_inner(node.op.inner_inputs, node.op.inner_outputs)
        assert not _destroyers(io_toposort(inner_in, inner_out))
        assert not _destroyers(node.op.fgraph.apply_nodes)


def test_generate_leaves_no_in_place_op():
    loaded = load_object(_graph())
    generate(loaded, Options())
    assert not _destroyers(loaded.fgraph.apply_nodes)


def test_no_rewrite_lowers_the_graph_as_given():
    loaded = load_object(_graph())
    nodes = set(loaded.fgraph.apply_nodes)
    printout = debugprint(loaded.fgraph, file="str", print_type=True)
    source = generate(loaded, Options(rewrite=False))
    assert set(loaded.fgraph.apply_nodes) == nodes  # the very same nodes
    assert debugprint(loaded.fgraph, file="str", print_type=True) == printout
    named = {op for _, _, text in comments(source) for op in named_ops(text)}
    assert {"Sigmoid", "Log"} <= named  # not fused away (each named in its loop)
    # The control: rewriting does change this graph.
    rewritten = load_object(_graph())
    source = generate(rewritten, Options())
    assert debugprint(rewritten.fgraph, file="str", print_type=True) != printout
    assert "Sigmoid" not in {op for _, _, text in comments(source) for op in named_ops(text)}
