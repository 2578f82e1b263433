"""Lowerings, one module per Op family; importing this package registers them all."""

from . import (  # noqa: F401
    basic,
    blas,
    blockwise,
    elemwise,
    extra,
    indexing,
    linalg,
    ofg,
    random,
    reduction,
    scalar,
    scan,
    shape,
    special,
    subtensor,
)
