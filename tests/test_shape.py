"""Shape Ops: Shape, Shape_i, Reshape (with -1, of non-contiguous inputs, from a
symbolic shape) and SpecifyShape (checked at run time).
"""

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from oracle import compare, transpile_module


@pytest.mark.parametrize("rewrite", [True, False])
def test_shape_and_shape_i(rng, rewrite):
    x = pt.tensor3("x")
    s = pt.scalar("s")
    r = pt.tensor("r", shape=(1, None, 3))
    outs = [x.shape, x.shape[0], x.shape[-1], x.shape[1] * x.shape[2], s.shape,
            r.shape, r.shape[1], x.T.shape, pt.cast(x.shape[0], "float64") * s,
            x.size, r.shape[2]]
    values = [rng.normal(size=(2, 3, 4)), 2.5, rng.normal(size=(1, 5, 3))]
    compare_chunked([x, s, r], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_reshape(rng, rewrite):
    x = pt.matrix("x")
    y = pt.tensor3("y")
    i = pt.lvector("i")
    n = pt.lscalar("n")
    one = pt.tensor("one", shape=(1, 1))
    outs = [
        x.reshape((3, 4)), x.reshape((-1,)), x.reshape((2, -1)), x.reshape((-1, 2, 3)),
        # of a transposed (non-contiguous) input
        x.T.reshape((-1,)), x.T.reshape((4, 3)),
        x[:, ::2].reshape((-1,)), y.transpose(2, 0, 1).reshape((4, -1)),
        y.reshape((n, -1)), x.reshape((n, 12 // n)),  # a symbolic shape
        i.reshape((2, 3)), (x * 2).reshape((6, 2)), x.flatten(), y.flatten(ndim=2),
        one.reshape(()),  # one element to a 0-d result
        pt.shape_padleft(x.reshape((12,))),
    ]
    values = [rng.normal(size=(4, 3)), rng.normal(size=(2, 3, 4)),
              rng.integers(0, 9, 6), 2, rng.normal(size=(1, 1))]
    compare_chunked([x, y, i, n, one], outs, values, rewrite=rewrite)


def test_reshape_to_a_shape_vector_input(rng):
    x = pt.matrix("x")
    shape = pt.lvector("shape")
    out = x.reshape(shape, ndim=3)
    compare([x, shape], [out, x.T.reshape(shape, ndim=3)],
            [rng.normal(size=(4, 6)), np.array([2, -1, 3])], rewrite=False)


@pytest.mark.parametrize("rewrite", [True, False])
def test_specify_shape(rng, rewrite):
    x = pt.matrix("x")
    n = pt.lscalar("n")
    checked = pt.specify_shape(x, (3, None))
    outs = [pt.exp(checked), pt.specify_shape(x, (n, 4)) * 2, checked]
    module = compare([x, n], outs, [rng.normal(size=(3, 4)), 3], rewrite=rewrite)
    with pytest.raises(AssertionError):
        module.kernel(rng.normal(size=(2, 4)), 2)  # dimension 0 is not 3
    with pytest.raises(AssertionError):
        module.kernel(rng.normal(size=(3, 4)), 4)  # dimension 0 is not n


def test_specify_shape_as_only_node_is_not_optimized_away(rng):
    x = pt.tensor3("x")
    module = transpile_module([x], [pt.specify_shape(x, (2, None, 4))], rewrite=False)
    value = rng.normal(size=(2, 3, 4))
    out = module.kernel(value)
    np.testing.assert_array_equal(out, value)
    assert not np.shares_memory(out, value)
    with pytest.raises(AssertionError):
        module.kernel(rng.normal(size=(2, 3, 5)))


@pytest.mark.parametrize("rewrite", [True, False])
def test_squeezing_a_dimension_that_is_not_one_raises(rng, rewrite):
    """A dimension of unknown length dropped by a DimShuffle must be 1 at run time."""
    x = pt.tensor3("x", shape=(4, None, 5))
    module = compare([x], [pt.squeeze(x, axis=1)], [rng.normal(size=(4, 1, 5))],
                     rewrite=rewrite)
    with pytest.raises(ValueError, match="squeeze axes with size not equal to one"):
        module.kernel(np.zeros((4, 2, 5)))
