"""Graphs whose outputs are slices (``make_slice``, ``as_symbolic(slice(...))``).

Numba cannot return a slice object, so the ``@njit`` entry returns each slice as its
``(start, stop, step)`` and the module's Python entry of the same name makes it a
``slice`` (transpile/assemble.py, ``_slice_parts``).
"""

import numpy as np
import pytensor.scalar as ps
import pytensor.tensor as pt
from oracle import reference, transpile_module
from pytensor.tensor.type_other import make_slice


def _slice(x, start, stop, step):
    pick = {"x": x}
    return make_slice(*(pick.get(p, p) for p in (start, stop, step)))


FORMS = [(None, None, None), (0, 10, -2), ("x", None, 2), (3, "x", None), ("x", "x", "x"),
         (None, 10, "x")]


def test_slice_outputs_are_the_slices_pytensor_computes():
    # One module for every form (each compiled module costs a second or two).
    x = ps.int64("x")
    outs = [_slice(x, *form) for form in FORMS]
    module = transpile_module([x], outs, rewrite=False)
    for value in (-5, 7):
        want = reference([x], outs, [value])
        got = module.kernel(value)
        for form, g, w in zip(FORMS, got, want, strict=True):
            assert isinstance(g, slice) and g == w, (form, g, w)
            assert all(p is None or type(p) is int for p in (g.start, g.stop, g.step))
    # One slice alone: the Python entry returns it, not a tuple.
    alone = transpile_module([x], [_slice(x, "x", 10, None)], rewrite=False)
    assert alone.kernel(4) == slice(4, 10, None)


def test_slices_beside_arrays_and_with_rewrites():
    x = ps.int64("x")
    v = pt.vector("v")
    outs = [_slice(x, "x", 10, None), v[1:] * 2, _slice(x, 3, "x", "x")]
    module = transpile_module([x, v], outs)
    values = [-2, np.arange(5.0)]
    want = reference([x, v], outs, values)
    got = module.kernel(*values)
    assert got[0] == want[0] and got[2] == want[2]
    np.testing.assert_array_equal(got[1], want[1])
    # The @njit entry returns the parts; it can be called from other @njit code.
    assert module.kernel_parts(*values)[0] == (-2, 10, None)
    assert module.OUTPUTS[0][1] == "slice"


def test_transpile_check_compares_slice_outputs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from oracle import graph_file

    x = ps.int64("x")
    v = pt.vector("v")
    graph = graph_file([x, v], [_slice(x, "x", 10, None), v * 2])
    exe = Path(sys.executable).parent / "transpile"
    module = tmp_path / "kernels.py"
    subprocess.run([exe, graph, "-o", module], check=True)
    done = subprocess.run([exe, "check", graph, module], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "out0" in done.stdout
    # An edited module that returns another slice fails, naming the output.
    module.write_text(module.read_text().replace("np.int8(10)", "np.int8(11)"))
    done = subprocess.run([exe, "check", graph, module], capture_output=True, text=True)
    assert done.returncode != 0 and "out0" in done.stdout
