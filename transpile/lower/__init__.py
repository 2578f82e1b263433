"""Lowerings, one module per Op family; importing this package registers them all."""

from . import (  # noqa: F401
    basic,
    blas,
    blockwise,
    decomp,
    elemwise,
    extra,
    indexing,
    linalg,
    ofg,
    reduction,
    scalar,
    scan,
    shape,
    special,
    subtensor,
)
