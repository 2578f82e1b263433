"""Ops that only change a variable's type: the xtensor casts (``XTensorFromTensor``,
``TensorFromXTensor``, ``Rename``) and other ``TypeCastingOp``s are views, never
copies (but for the output, never the caller's memory); and the graphs no lowering
takes yet (sparse matrices, typed lists) are refused up front, in one line."""

import warnings

import numpy as np
import oracle
import pytensor.tensor as pt
import pytest
from oracle import graph_file
from pytensor.compile.mode import Mode

import transpile

with warnings.catch_warnings():  # pytensor.xtensor warns that it is experimental
    warnings.simplefilter("ignore")
    from pytensor.xtensor import xtensor
    from pytensor.xtensor.basic import rename, tensor_from_xtensor, xtensor_from_tensor


@pytest.fixture
def xtensor_reference(monkeypatch):
    # An XOp's perform only raises: PyTensor evaluates xtensor graphs once its
    # rewrites have lowered them to tensor Ops.
    monkeypatch.setattr(oracle, "REFERENCE_MODE", Mode(linker="py", optimizer="fast_compile"))


def test_xtensor_casts(xtensor_reference):
    t = pt.matrix("t")
    x = xtensor("x", dims=("a", "b"))
    casts = [tensor_from_xtensor(rename(xtensor_from_tensor(t, ("p", "q")), p="r")),
             rename(x, a="c"), tensor_from_xtensor(x)[0]]
    values = [np.arange(6.0).reshape(2, 3), np.ones((2, 2))]
    oracle.compare([t, x], casts, values, rewrite=False)
    oracle.compare([t, x], [*casts, (x + 1).rename(a="z"), tensor_from_xtensor(x).sum()],
                   values)
    source = transpile.transpile(([t, x], casts), rewrite=False)
    body = source[source.index("def kernel"):]
    assert "copy()" in body and "np.empty" not in body  # views; copies only returned


def test_sparse_and_typed_lists_are_refused():
    import pytensor.sparse as sp
    import pytensor.typed_list as tl

    s, y = sp.csr_matrix("s"), pt.matrix("y")
    lst = tl.TypedListType(pt.dvector)("lst")
    cases = [
        (([s, y], [sp.dense_from_sparse(s) + y]), "DenseFromSparse", "sparse matrices"),
        (([y], [sp.csr_from_dense(y)]), "SparseFromDense", "sparse matrices"),
        (([s], [s]), "variable s", "sparse matrices"),
        (([lst], [tl.length(lst)]), "Length", "typed lists"),
        (([y], [tl.length(tl.make_list([y[0], y[1]]))]), "MakeList", "typed lists"),
    ]
    for graph, what, kind in cases:
        # in memory, and from a graph file (read by the loader, which refuses first)
        for source in (graph, graph_file(*graph)):
            with pytest.raises(transpile.UnsupportedOpError) as error:
                transpile.transpile(source)
            message = str(error.value)
            # the loader may reach the variable of that type before its Op
            named = what in message or (source is not graph and "variable" in message)
            assert named and f"{kind} (pytensor." in message, message
            assert "not supported yet" in message and "\n" not in message


def test_sparse_and_typed_lists_are_refused_by_the_command():
    """In a fresh process, where nothing imported ``pytensor.sparse`` or
    ``pytensor.typed_list``, the loader meets a variable of a class it never
    imports: still one line saying what is not supported, and no output file."""
    import subprocess
    import sys
    from pathlib import Path

    import pytensor.sparse as sp
    import pytensor.typed_list as tl

    y = pt.matrix("y")
    lst = tl.TypedListType(pt.dvector)("lst")
    exe = Path(sys.executable).parent / "transpile"
    for graph, kind in ((([y], [sp.csr_from_dense(y)]), "sparse matrices"),
                        (([lst], [tl.length(lst)]), "typed lists")):
        path = graph_file(*graph)
        out = path.with_name(path.stem + ".refused.py")
        result = subprocess.run([str(exe), str(path), "-o", str(out)], capture_output=True,
                                text=True, timeout=300)
        message = result.stderr.strip()
        assert result.returncode != 0 and not out.exists(), message
        assert "\n" not in message and f"{kind} (pytensor." in message, message
        assert "not supported yet" in message, message
