"""Arrays stored into views (``FunctionBuilder.store``): Scan results into their
buffer rows, ``set_subtensor`` windows, ``alloc`` fills.  They are loop nests, not
Numba's slice assignment, whose error message compiles seconds of string code on a
module's first call; NumPy's broadcasting and its errors are kept."""

import json
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import reference, transpile_module


def _graph():
    x, y, v = pt.matrix("x"), pt.vector("y"), pt.vector("v")
    n = pt.scalar("n", dtype="int64")
    window = pt.set_subtensor(x[1:], y)  # a row broadcast over a window
    row = pt.set_subtensor(x[0], y)  # an integer slot
    column = pt.set_subtensor(x[:, :1], v[:, None])  # a static length-1 dimension
    filled = pt.alloc(y, n, y.shape[0])  # leading dimensions added
    sums = pytensor.scan(lambda r, s: s + r, sequences=[x], outputs_info=[pt.zeros_like(y)],
                         return_updates=False)  # fresh arrays into the trace's rows
    return [x, y, v, n], [window, row, column, filled, sums, x.T * 2.0]


@pytest.fixture(scope="module")
def module():
    return transpile_module(*_graph(), rewrite=False)


def test_stores_match_pytensor_broadcasting_included(module, rng):
    inputs, outputs = _graph()
    for rows, cols in [(4, 3), (1, 5), (3, 1)]:
        values = [rng.normal(size=(rows, cols)), rng.normal(size=cols),
                  rng.normal(size=rows), 2]
        want = reference(inputs, outputs, values)
        got = module.kernel(*values)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            np.testing.assert_array_equal(g, w, err_msg=f"output {k}, {rows}x{cols}")
    # A length-1 value broadcast at run time along a dimension of unknown length,
    # which set_subtensor allows and PyTensor's Alloc refuses ("Runtime
    # broadcasting not allowed"): so does the module.
    x, y, k = pt.matrix("x"), pt.vector("y"), pt.scalar("k", dtype="int64")
    small = [pt.set_subtensor(x[1:], y), pt.alloc(y, 2, k)]
    values = [rng.normal(size=(3, 4)), np.array([7.0]), 1]
    got = transpile_module([x, y, k], small, rewrite=False).kernel(*values)
    for g, w in zip(got, reference([x, y, k], small, values), strict=True):
        np.testing.assert_array_equal(g, w)
    values[2] = 3
    with pytest.raises(ValueError):
        reference([x, y, k], small, values)
    with pytest.raises(ValueError, match="Alloc"):
        transpile_module([x, y, k], small, rewrite=False).kernel(*values)


def test_a_value_of_the_wrong_shape_raises_as_numpy_does(module, rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(ValueError):
        np.asarray(x)[1:] = np.ones(3)  # what NumPy says: a ValueError
    with pytest.raises(ValueError):
        module.kernel(x, np.ones(3), np.ones(3), 2)


def test_the_first_call_compiles_no_slice_assignment_message(module, tmp_path):
    """The rows, windows and fills above, and x.T, compile without Numba's
    ``raise_with_shape_context`` (seconds of string formatting code); checked in a
    fresh process with an empty cache, where nothing was compiled before."""
    code = f"""
import json, sys, importlib.util
import numpy as np
from numba.core import event
spec = importlib.util.spec_from_file_location("m", {module.__file__!r})
m = importlib.util.module_from_spec(spec); sys.modules["m"] = m; spec.loader.exec_module(m)
with event.install_recorder("numba:compile") as rec:
    m.kernel(np.ones((3, 2)), np.ones(2), np.ones(3), 2)
print(json.dumps(sorted({{str(e.data.get("dispatcher")) for _, e in rec.buffer}})))
"""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    compiled = json.loads(out.stdout.strip().splitlines()[-1])
    assert "def kernel" in open(module.__file__).read() and ".T * 2.0" not in compiled
    assert any("kernel" in c for c in compiled)
    assert not [c for c in compiled if "shape_context" in c or "unicode" in c]
