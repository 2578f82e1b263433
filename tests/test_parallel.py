"""``--parallel``: large elementwise loops, row reductions and reductions to one value
over ``numba.prange`` (transpile/lower/parallel.py).

One module holds every kind of loop; it is compiled once and called on inputs below
and above the size threshold, against PyTensor, on one thread and on two.
"""

import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytensor.tensor as pt
import pytest
from oracle import check_output, compare, graph_file, reference

from transpile.lower.parallel import PARALLEL_MIN_ELEMENTS

EXE = Path(sys.executable).parent / "transpile"


def _graph():
    x = pt.vector("x")
    m = pt.matrix("m")
    k = pt.vector("k", dtype="int32")
    outputs = [
        pt.exp(-(x**2)) * pt.sin(x) + pt.log1p(abs(x)),  # elementwise
        pt.sum(x**2),  # fused reduction to one value, 1-d: blocks
        m.sum(),  # 2-d reduction to one value: a block per row
        pt.exp(m).sum(axis=1),  # fused row reduction
        pt.max(m, axis=1),
        m.sum(axis=0),  # accumulated into the output along the rows: stays serial
        pt.tanh(m) + 1,
        k.sum(),  # integer accumulator
        (m**2).sum() + m.sum(axis=1).sum(),  # a full and a row reduction in one nest
        pt.special.softmax(m, axis=1),
    ]
    return [x, m, k], outputs


def _values(rng, n):
    return [rng.normal(size=n), rng.normal(size=(n // 8 + 1, 8)),
            rng.integers(-(2**31), 2**31 - 1, size=n).astype("int32")]


@pytest.fixture(scope="module")
def parallel_module():
    inputs, outputs = _graph()
    return compare(inputs, outputs, _values(np.random.default_rng(0), 100), parallel=True)


def test_small_inputs_match_pytensor(parallel_module):
    # ``compare`` ran the module below the threshold: the serial branches.
    source = Path(parallel_module.__file__).read_text()
    assert '"prange": True' in source and "numba.prange" in source
    assert f">= {PARALLEL_MIN_ELEMENTS}" in source
    # The prange loops are functions of their own; the entry is not parallel.
    entry = source.split("def kernel(")[1]
    assert "prange" not in entry and "_in_parallel(" in entry


@pytest.mark.parametrize("threads", [1, 2])
def test_large_inputs_match_pytensor_on_any_number_of_threads(parallel_module, threads):
    inputs, outputs = _graph()
    values = _values(np.random.default_rng(1), 4 * PARALLEL_MIN_ELEMENTS + 3)
    want = reference(inputs, outputs, values)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        got = parallel_module.kernel(*values)
    finally:
        numba.set_num_threads(previous)
    for k, (g, w, var) in enumerate(zip(got, want, outputs, strict=True)):
        check_output(g, w, var, f"output {k}", {"rtol": 1e-10, "atol": 1e-9})


def test_reductions_give_the_same_bits_on_every_run_and_thread_count(parallel_module):
    values = _values(np.random.default_rng(2), 8 * PARALLEL_MIN_ELEMENTS)
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS, 1):
        numba.set_num_threads(threads)
        runs.append(parallel_module.kernel(*values))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for run in runs[1:]:
        for a, b in zip(runs[0], run, strict=True):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_without_the_flag_nothing_is_parallel(tmp_path):
    inputs, outputs = _graph()
    graph = graph_file(inputs, outputs)
    plain = subprocess.run([EXE, graph], capture_output=True, text=True, check=True).stdout
    assert "prange" not in plain and "parallel" not in plain.split('"""', 2)[2]
    flagged = subprocess.run([EXE, graph, "--parallel"], capture_output=True, text=True,
                             check=True).stdout
    assert "--parallel" in flagged.split("Regenerate:")[1].splitlines()[0]
    # Only the function with prange loops is compiled with parallel=True.
    helper = flagged.split("def softmax_logsumexp_rows")[0].rsplit("@numba.njit", 1)[1]
    assert "parallel" not in helper
