"""``compare`` for graphs with many outputs, a few outputs per generated module.

Numba's compile time grows faster than linearly with the size of a function: one
kernel with 30 outputs takes several times as long to compile as two kernels with
15 each.  Tests that batch many small cases into one graph use this instead of
``oracle.compare``.
"""

from oracle import compare

CHUNK = 16


def compare_chunked(inputs, outputs, values, *, size: int = CHUNK, **options) -> list:
    """``compare`` on consecutive groups of at most ``size`` outputs; the modules."""
    outputs = list(outputs)
    return [compare(inputs, outputs[k:k + size], values, **options)
            for k in range(0, len(outputs), size)]
