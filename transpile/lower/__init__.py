"""Lowerings, one module per Op family; importing this package registers them all."""

from . import (  # noqa: F401
    basic,
    blas,
    blockwise,
    elemwise,
    extra,
    extra_ops,
    ifelse,
    indexing,
    linalg,
    ofg,
    random,
    reduction,
    scalar,
    scalar_loop,
    scan,
    shape,
    signal,
    special,
    subtensor,
    xtensor,
)
