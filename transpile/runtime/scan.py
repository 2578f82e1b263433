"""Buffers of ``Scan`` states whose length is not the loop's.

A generated loop keeps every state of a Scan in a buffer of ``n_steps + lookback``
entries.  PyTensor may hand a Scan a shorter one (a circular buffer: its
memory-saving rewrites keep only the last values a graph uses, as in a compiled
``Function``'s graph) or a longer one.  When the graph does not show that a
buffer has the loop's length, the generated module runs the loop on a full-length
buffer and returns what PyTensor's Scan would have left in the one it was given.
"""

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def scan_full_buffer(buf, length, taps):
    """``buf`` when it has ``length`` entries or more, else a new buffer of
    ``length`` entries starting with ``buf``'s first ``taps`` (the initial ones)."""
    if buf.shape[0] >= length:
        return buf
    if buf.shape[0] < taps:
        raise ValueError("Scan: a state's buffer is shorter than its initial taps")
    full = np.empty((length,) + buf.shape[1:], dtype=buf.dtype)
    full[:taps] = buf[:taps]
    return full


@numba.njit(cache=True, error_model="numpy")
def scan_stored(full, store, entries, trim):
    """What a Scan returns for a state kept in a buffer of ``store`` entries, of
    which ``full[:entries]`` were computed: the last ``store`` of them, in order,
    when they did not all fit (a circular buffer), else all of them followed by
    zeros, ``trim`` entries fewer when a while-loop stopped ``trim`` steps early."""
    if store <= entries:
        if store == full.shape[0] and entries == store:
            return full
        return full[entries - store:entries].copy()
    out = np.zeros((store - trim,) + full.shape[1:], dtype=full.dtype)
    n = min(entries, store - trim)
    out[:n] = full[:n]
    return out
