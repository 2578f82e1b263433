"""Basic indexing: Subtensor (views: ints, negative ints, slices with steps, negative
steps, symbolic bounds) and IncSubtensor / set_subtensor (copies, with broadcasting),
including results returned directly, which must not share memory with an input.
"""

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from oracle import compare


@pytest.mark.parametrize("rewrite", [True, False])
def test_subtensor(rng, rewrite):
    x = pt.matrix("x")
    v = pt.vector("v")
    t = pt.tensor3("t")
    i = pt.lscalar("i")
    j = pt.iscalar("j")
    k = pt.lscalar("k")
    outs = [
        v[2], v[-1], x[1], x[-1], x[:, 1], x[1, -1], x[-2, 2], t[1, -1, 0], t[:, -1],
        v[1:5], v[::2], v[1:6:2], v[::-1], v[5:1:-2], v[-3:], v[:-2], v[-1:-5:-1],
        x[-2:, ::-1], x[::2, 1:], x[1:, :-1], x[::-1, ::-2], t[:, 1:, ::-1],
        t[1:, 0, ::2],
        v[i], x[i, j], v[i:], v[:j], v[i:j], v[j::-1], x[i:, j], t[i, :, j:],
        v[::k], v[j::k], x[::k, i],  # a symbolic (negative) step
        x[1] * 2, v[::-1] + v,  # views consumed by other nodes
        x.T[1:],  # a view of a view
    ]
    values = [rng.normal(size=(4, 5)), rng.normal(size=8), rng.normal(size=(3, 4, 5)),
              np.int64(1), np.int32(3), np.int64(-2)]
    compare_chunked([x, v, t, i, j, k], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_inc_and_set_subtensor(rng, rewrite):
    x = pt.matrix("x")
    v = pt.vector("v")
    s = pt.scalar("s")
    row = pt.tensor("row", shape=(1, None))
    col = pt.tensor("col", shape=(None, 1))
    w = pt.vector("w")
    i = pt.lscalar("i")
    outs = [
        pt.inc_subtensor(x[1:3], row), pt.set_subtensor(x[1:3], row),  # broadcast rows
        pt.inc_subtensor(x[:, 1:4], col[:4]), pt.set_subtensor(x[::2, 1:4], col[:2]),
        pt.inc_subtensor(x[1], w), pt.set_subtensor(x[:, -1], v),
        pt.inc_subtensor(x[1:, ::-2], s), pt.set_subtensor(x[2, 3], s),  # a scalar
        pt.set_subtensor(x[i], 0.0), pt.inc_subtensor(v[i:], 1.0),
        pt.set_subtensor(v[::-1][1:3], s * 2),
        pt.inc_subtensor(pt.exp(x)[0], w),  # into a fresh intermediate
        pt.set_subtensor(pt.set_subtensor(x[0], w)[1], w),  # chained updates
        pt.set_subtensor(x[1:3], row)[1:],  # a view of the result
    ]
    values = [rng.normal(size=(4, 5)), rng.normal(size=4), 0.5, rng.normal(size=(1, 5)),
              rng.normal(size=(4, 1)), rng.normal(size=5), np.int64(-2)]
    compare_chunked([x, v, s, row, col, w, i], outs, values, rewrite=rewrite)


def test_constants_stored_are_spelled_in_the_arrays_dtype(rng):
    """``x[-1] = 1.0`` and ``v[i:] += 2.0``, not ``np.float32(1.0)``, for constants of
    another dtype that are the same number in the array's; one that is not (a float32
    0.1, an int64 beyond float64's integers) keeps its dtype, and the values match."""
    x = pt.matrix("x")
    v = pt.vector("v")
    n = pt.lvector("n")
    i = pt.lscalar("i")
    one, two = pt.constant(np.float32(1.0)), pt.constant(np.int8(2))
    outs = [pt.set_subtensor(x[-1], one), pt.inc_subtensor(v[i:], two),
            pt.inc_subtensor(v[1], pt.constant(np.float32(0.1))),
            pt.inc_subtensor(n[0], pt.constant(np.int64(2**62 + 1))),
            pt.set_subtensor(n[1:], two)]
    values = [rng.normal(size=(3, 4)), rng.normal(size=5),
              np.array([1, 2, 3], dtype=np.int64), np.int64(2)]
    module = compare([x, v, n, i], outs, values, rewrite=False)
    source = open(module.__file__).read()
    assert "np.int8(" not in source and "np.float32(1.0)" not in source, source
    assert "np.float32(0.1)" in source, source


def test_an_increment_that_does_not_fit_raises_like_pytensor(rng):
    """Numba's ``a[i:j] += y`` reads past the end of a short ``y``; the generated
    code compares the lengths first.  A length-1 increment broadcasts, as in NumPy."""
    import pytensor
    from oracle import REFERENCE_MODE, compare, transpile_module

    x = pt.matrix("x")
    y = pt.vector("y")
    out = pt.inc_subtensor(x[1:3, 0], y)
    module = transpile_module([x, y], [out])
    # PyTensor's own Python implementation (PyTensor 3's default Numba mode checks
    # nothing: it truncates the long increment and ignores the empty one).
    reference = pytensor.function([x, y], out, mode=REFERENCE_MODE)
    for size in (1, 2):
        compare([x, y], [out], [rng.normal(size=(5, 2)), rng.normal(size=size)])
    for size in (0, 3):
        args = [rng.normal(size=(5, 2)), rng.normal(size=size)]
        with pytest.raises(ValueError):
            reference(*args)
        with pytest.raises(ValueError, match="does not fit"):
            module.kernel(*args)


@pytest.mark.parametrize("rewrite", [True, False])
def test_integer_indices_out_of_bounds_raise_index_error(rng, rewrite):
    """Numba's basic indexing checks nothing (``zeros((1, 3))[1] += 1`` would write
    past the array); the module raises IndexError where PyTensor does, for reads,
    increments and sets, constant and symbolic, positive and negative indices."""
    import pytensor
    from oracle import REFERENCE_MODE, transpile_module

    x = pt.matrix("x")
    i = pt.lscalar("i")
    outs = [x[i], x[1, i], x[-2], pt.inc_subtensor(x[i], 1.0),
            pt.set_subtensor(x[:, i], 0.0), pt.inc_subtensor(pt.zeros((1, 3))[i], 1.0)]
    for out in outs:
        module = transpile_module([x, i], [out], rewrite=rewrite)
        reference = pytensor.function([x, i], out, mode=REFERENCE_MODE,
                                      on_unused_input="ignore")
        for shape, index in [((1, 3), 1), ((2, 3), -3), ((1, 1), 0), ((3, 1), -1)]:
            args = [rng.normal(size=shape), np.int64(index)]
            try:
                want = reference(*args)
            except IndexError:
                with pytest.raises(IndexError, match="out of bounds"):
                    module.kernel(*args)
            else:
                np.testing.assert_allclose(module.kernel(*args), want)


def test_indices_shown_in_range_are_not_checked():
    """``h[-1]`` of a trace of ``n + 1`` rows, ``v[0]`` of a static length, and an
    index checked once however often it is read."""
    import transpile

    v = pt.tensor("v", shape=(3,))
    x = pt.matrix("x")
    i = pt.lscalar("i")
    h = pt.zeros((x.shape[0] + 1, 2))
    source = transpile.transpile(([v, x, i], [v[0] + v[-3], h[-1], x[i] * 2, x[i] + 1]),
                                 rewrite=False)
    assert source.count("raise IndexError") == 1, source


@pytest.mark.parametrize("rewrite", [True, False])
def test_integer_and_bool_arrays(rng, rewrite):
    m = pt.lmatrix("m")
    b = pt.vector("b", dtype="bool")
    f = pt.fmatrix("f")
    outs = [m[1:, ::-1], m[-1], pt.inc_subtensor(m[0], 5),
            pt.set_subtensor(b[1:3], np.array(True)), b[::2],
            pt.inc_subtensor(f[:, 0], 1.5), f[1, 1], pt.set_subtensor(m[:, 1], f[0, 0])]
    values = [rng.integers(-9, 9, (3, 4)), rng.random(5) > 0.5,
              rng.normal(size=(3, 4)).astype("float32")]
    compare_chunked([m, b, f], outs, values, rewrite=rewrite)


