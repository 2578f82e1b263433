"""Lowerings, one module per Op family; importing this package registers them all."""

from . import basic, blas, blockwise, elemwise, reduction, scalar, scan, shape, special, subtensor  # noqa: F401
