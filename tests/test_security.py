"""Hostile graph files, one per attack class of docs/security.md, run through the
command line as a victim would run it (`transpile evil.pkl -o kernels.py`).

Each hostile file tries to make transpile run a command (which would create a marker
file), compile C, open a file it was never given, leak memory into its output, hang,
crash, or write a broken module.  Every run must end, within a minute, either refused
(exit 1, one line on stderr, nothing written) or with a correct module.  All runs start
at once (`runs` fixture), two at a time; the tests read their results.
"""

import os
import pickle
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytensor
import pytensor.scalar as ps
import pytensor.tensor as pt
import pytest
from hostile import (
    Reduce,
    call_bytes,
    chain_pickle,
    deep_chain,
    dumps,
    graph_bytes,
    nested_lists,
    nested_tuple_key,
)
from once import once_per_run
from oracle import import_source
from pytensor.graph.fg import FunctionGraph
from pytensor.tensor.elemwise import Elemwise

import transpile

EXE = Path(sys.executable).parent / "transpile"
TESTS = Path(__file__).resolve().parent
ORIGINAL = "# a file the user already had\n"
MINUTE = 60

# The subprocess runs are made once, by session fixtures: every test of this file runs
# on one xdist worker (`--dist loadgroup`, Makefile), and a session fixture stays set
# up when that worker runs other files' tests in between (a module one would be torn
# down and made again).
pytestmark = pytest.mark.xdist_group("security")


def _marker_command(marker: Path) -> bytes:
    """A pickle that, if unpickled the usual way, creates ``marker``."""
    return dumps(Reduce(os.system, f"touch {marker}"))


def _folded_elemwise(marker: Path, **spec):
    """``f(c)`` for a constant ``c`` holding a second pickle, with ``f`` an Elemwise
    whose ``nfunc_spec`` names ``pickle.loads``: folding ``f(c)`` runs the pickle."""
    payload = np.frombuffer(_marker_command(marker), dtype=np.uint8).copy()
    op = Elemwise(ps.identity)
    op.nfunc_spec = spec.get("nfunc_spec", ("pickle.loads", 1, 1))
    x = pt.vector("x", dtype="uint8")
    return graph_bytes([x], [op(pt.constant(payload)) + x])


def _blockwise_spec(marker: Path):
    from pytensor.tensor.blockwise import Blockwise
    from pytensor.tensor.nlinalg import MatrixInverse

    op = Blockwise(MatrixInverse())
    op.gufunc_spec = ("pickle.loads", 1, 1)
    x = pt.matrix("x")
    return graph_bytes([x], [op(pt.constant(np.eye(3))) + x])


def _ofg_fn_by_getattr(marker: Path):
    """An OpFromGraph whose inner graph folds the attack above, reached through
    ``getattr(ofg, "fn")`` (which compiles the inner graph) in a node's tag."""
    from pytensor.compile.builders import OpFromGraph

    payload = np.frombuffer(_marker_command(marker), dtype=np.uint8).copy()
    op = Elemwise(ps.identity)
    op.nfunc_spec = ("pickle.loads", 1, 1)
    a = pt.vector("a", dtype="uint8")
    ofg = OpFromGraph([a], [op(pt.constant(payload)) + a])
    x = pt.vector("x", dtype="uint8")
    y = ofg(x)
    y.tag.compiled = Reduce(getattr, ofg, "fn")
    return graph_bytes([x], [y])


def _function_maker(marker: Path):
    """A pickle that constructs a FunctionMaker (whose constructor rewrites and
    compiles the graph it is given)."""
    try:
        from pytensor.compile.function.types import FunctionMaker
    except ImportError:
        from pytensor.compile.maker import FunctionMaker
    x = pt.vector("x")
    return dumps(Reduce(FunctionMaker, [x], [x + 1]))


def _assert_message_c_injection(marker: Path):
    """An Assert whose message escapes C string quoting into preprocessor lines."""
    from pytensor.raise_op import Assert

    message = f'x\\\r\n#include "/etc/passwd"\n#error {marker}\n'
    x = pt.vector("x")
    return graph_bytes([x], [Assert(message)(x, pt.all(x > 0))])


def _dimshuffle_file(path: str):
    x = pt.matrix("x")
    y = x.T
    y.owner.op.c_func_file = path
    return graph_bytes([x], [y + 1])


def _raw_pointer_constant(marker: Path):
    """A constant whose data is an array over a raw pointer into the process."""
    from numpy.lib import stride_tricks

    dummy = getattr(stride_tricks, "DummyArray", None) or \
        __import__("numpy.lib._stride_tricks_impl", fromlist=["x"]).DummyArray
    holder = np.zeros(4)
    interface = {"data": (holder.ctypes.data, False), "shape": (4096,), "typestr": "<f8",
                 "version": 3}
    x = pt.vector("x")
    c = pt.constant(np.zeros(4096))
    c.data = Reduce(np.asarray, Reduce(dummy, interface))
    return graph_bytes([x], [x + c])


def _zero_stride_constant(marker: Path):
    x = pt.matrix("x")
    c = pt.constant(np.zeros((4, 4)))
    c.data = Reduce(np.lib.stride_tricks.as_strided, np.zeros(4), (10**7, 4), (0, 8))
    return graph_bytes([x], [x + c])


def _cycle(marker: Path):
    x = pt.vector("x")
    y = pt.exp(x)
    z = y * 2
    y.owner.inputs[0] = z  # exp's input is now its own consumer's output
    return dumps(([x], [z]))  # (a FunctionGraph of it would never finish building)


def _names(marker: Path):
    x = pt.vector("x\x00evil")
    return graph_bytes([x], [x + 1])


def _dtype(dtype: str):
    def build(marker: Path):
        x = pt.vector("x")
        c = pt.constant(np.zeros(3))
        c.data = np.zeros(3, dtype=dtype)
        c.type = pt.TensorType("float64", shape=(3,))
        return graph_bytes([x], [x + c])

    return build


def _type_dtype(dtype: str):
    def build(marker: Path):
        x = pt.vector("x")
        x.type.__dict__["dtype"] = dtype
        return graph_bytes([x], [x])

    return build


def _long_chain(n: int):
    return lambda marker: chain_pickle(n)


def _fold_arange(marker: Path):
    x = pt.scalar("x")
    return graph_bytes([x], [pt.arange(3e8).sum() * x])


def _fold_alloc(marker: Path):
    x = pt.scalar("x")
    return graph_bytes([x], [pt.alloc(1.0, 100_000, 100_000).sum() * x])


def _nested_key(marker: Path):
    return nested_tuple_key(2_000_000)


def _nested_lists(marker: Path):
    return nested_lists(2_000_000)


def _os_system(marker: Path):
    return _marker_command(marker)


HOSTILE = {
    "nfunc_spec": _folded_elemwise,
    "gufunc_spec": _blockwise_spec,
    "ofg_fn_getattr": _ofg_fn_by_getattr,
    "function_maker": _function_maker,
    "assert_c_injection": _assert_message_c_injection,
    "c_func_file_passwd": lambda marker: _dimshuffle_file("/etc/passwd"),
    "c_func_file_zero": lambda marker: _dimshuffle_file("/dev/zero"),
    "c_func_file_fifo": lambda marker: _dimshuffle_file(str(marker.parent / "fifo")),
    "raw_pointer": _raw_pointer_constant,
    "zero_stride": _zero_stride_constant,
    "cycle": _cycle,
    "nul_name": _names,
    "datetime_constant": _dtype("datetime64[s]"),
    "object_constant": _dtype("object"),
    "text_type": _type_dtype("<U10"),
    "structured_type": _type_dtype("f8,i4"),
    "nested_key": _nested_key,
    "nested_lists": _nested_lists,
    "chain_100k": _long_chain(100_000),
    "fold_arange": _fold_arange,
    "fold_alloc": _fold_alloc,
    "os_system": _os_system,
}
# Files that may come out as a correct module instead of a refusal.
MAY_TRANSPILE = {"ofg_fn_getattr", "assert_c_injection", "fold_arange", "fold_alloc"}

# A C compiler that only leaves a marker: if PyTensor compiles anything, we know.
# (PyTensor runs `g++ -v` whenever it is imported, to see whether one is there:
# that probe is not a compilation, and is answered as a missing compiler.)
FAKE_CXX = '#!/bin/sh\n[ "$*" = "-v" ] || echo "$0 $*" >> {marker}\nexit 1\n'


def _hostile_files(work: Path) -> Path:
    os.mkfifo(work / "fifo")
    (work / "bin").mkdir()
    for compiler in ("g++", "c++", "gcc", "cc", "clang"):
        path = work / "bin" / compiler
        path.write_text(FAKE_CXX.format(marker=work / "compiled"))
        path.chmod(0o755)
    for name, build in HOSTILE.items():
        (work / f"{name}.pkl").write_bytes(build(work / f"pwned_{name}"))
    return work


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return once_per_run(tmp_path_factory, "hostile", _hostile_files)


def _run(work: Path, name: str):
    out = work / f"{name}.py"
    out.write_text(ORIGINAL)
    env = {**os.environ, "PATH": f"{work / 'bin'}:{os.environ['PATH']}",
           "PYTHONPATH": str(TESTS), "TRANSPILE_DEBUG": "", "PYTENSOR_FLAGS": ""}
    start = time.monotonic()
    wrapper = ("import resource, subprocess, sys, json; "
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print(json.dumps([p.returncode, p.stdout, p.stderr, r.ru_maxrss]))")
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, str(EXE), f"{name}.pkl", "-o", out.name],
        capture_output=True, text=True, cwd=work, env=env, timeout=5 * MINUTE)
    import json

    code, stdout, stderr, rss_kb = json.loads(proc.stdout)
    return {"code": code, "stdout": stdout, "stderr": stderr, "rss_mb": rss_kb / 1024,
            "seconds": time.monotonic() - start, "out": out}


@pytest.fixture(scope="session")
def runs(work, tmp_path_factory):
    def run_all(_):
        with ThreadPoolExecutor(max_workers=2) as pool:
            return dict(zip(HOSTILE, pool.map(lambda n: _run(work, n), HOSTILE),
                            strict=True))

    return once_per_run(tmp_path_factory, "hostile_runs", run_all)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_runs_nothing_and_ends_cleanly(runs, work, name):
    result = runs[name]
    assert not (work / f"pwned_{name}").exists(), "the file ran its command"
    assert not (work / "compiled").exists(), "PyTensor invoked a C compiler"
    assert result["seconds"] < MINUTE, f"took {result['seconds']:.0f} s"
    assert result["rss_mb"] < 4096, f"peak memory {result['rss_mb']:.0f} MB"
    assert result["code"] in (0, 1), f"died: {result['code']} {result['stderr'][-300:]}"
    if result["code"] == 1:
        lines = result["stderr"].splitlines()
        assert len(lines) == 1 and lines[0].startswith("transpile: error: "), \
            result["stderr"][-500:]
        assert "internal error" not in lines[0] and "Traceback" not in lines[0]
        assert result["out"].read_text() == ORIGINAL, "the output file was touched"
        assert "root:" not in lines[0], "a file's content leaked into the message"
    else:
        assert name in MAY_TRANSPILE, f"{name} should have been refused"
        assert "Traceback" not in result["stderr"]
        source = result["out"].read_text()
        assert source != ORIGINAL and len(source) < 100_000


@pytest.mark.parametrize("name, fragment", [
    ("nfunc_spec", "nfunc_spec"),
    ("gufunc_spec", "gufunc_spec"),
    ("function_maker", "FunctionMaker"),
    ("c_func_file_passwd", "c_func_file"),
    ("c_func_file_fifo", "c_func_file"),
    ("raw_pointer", "numpy.asarray"),
    ("zero_stride", "as_strided"),
    ("cycle", "cycle"),
    ("nul_name", "control characters"),
    ("datetime_constant", "dtype"),
    ("object_constant", "dtype"),
    ("text_type", "dtype"),
    ("structured_type", "dtype"),
    ("nested_key", "nested"),
    ("nested_lists", "not a graph"),
    ("chain_100k", "nodes"),
    ("os_system", "posix.system"),
])
def test_the_refusal_says_what_was_refused(runs, name, fragment):
    assert runs[name]["code"] == 1
    assert fragment in runs[name]["stderr"], runs[name]["stderr"]


def test_an_assert_message_reaches_the_module_verbatim(runs, work):
    """The C-injection message is only data: the module raises it as is."""
    module = import_source(runs["assert_c_injection"]["out"].read_text(), stem="sec_assert")
    np.testing.assert_array_equal(module.kernel(np.ones(2)), np.ones(2))
    with pytest.raises(AssertionError) as info:
        module.kernel(-np.ones(2))
    assert "#include" in str(info.value)


def test_folding_stays_small_and_the_module_computes_at_run_time(runs):
    for name in ("fold_arange", "fold_alloc"):
        source = runs[name]["out"].read_text()
        assert runs[name]["rss_mb"] < 1500, runs[name]["rss_mb"]
        assert len(source) < 20_000


def test_an_inner_graph_reached_by_getattr_is_never_compiled(runs):
    """The tag holding getattr(ofg, "fn") is not part of the graph: it is ignored,
    and the OpFromGraph's hostile Elemwise is refused (nfunc_spec)."""
    result = runs["ofg_fn_getattr"]
    assert result["code"] == 1 and "nfunc_spec" in result["stderr"], result["stderr"]


DANGEROUS = ["builtins.eval", "builtins.exec", "os.system", "posix.system",
             "subprocess.Popen", "shutil.rmtree", "importlib.import_module",
             "pickle.loads", "ctypes.CDLL", "sys.exit", "marshal.loads", "runpy.run_path",
             "numba.njit", "io.open", "socket.socket", "code.interact", "pty.spawn"]


@pytest.mark.parametrize("path", DANGEROUS)
def test_refusals_never_suggest_trusting_the_standard_library(path, tmp_path):
    from transpile.load import load_bytes

    module, name = path.rsplit(".", 1)
    with pytest.raises(transpile.LoadError) as info:
        load_bytes(call_bytes(module, name, "touch x"))
    assert "--allow-module" not in str(info.value)
    assert path in str(info.value) or path.replace("posix", "os") in str(info.value)
    assert sys.modules.get("this") is None


def test_a_3000_node_chain_transpiles_and_matches_pytensor():
    """Transpiled (no RecursionError) by default; compiled by Numba (about half a
    minute) and compared with PyTensor with TRANSPILE_SLOW=1."""
    from oracle import compare

    from transpile.room import with_room

    x, y = deep_chain(3000)  # PyTensor's own evaluation (the reference) recurses too
    if os.environ.get("TRANSPILE_SLOW"):
        with_room(compare, [x], [y], [np.linspace(-1, 1, 5)])
        return
    source = with_room(transpile.transpile, ([x], [y]))
    compile(source, "chain.py", "exec")  # a module Python reads
    assert source.count("\n") < 20_000


def test_a_failing_rewrite_is_skipped_with_a_one_line_note(monkeypatch, caplog):
    """PyTensor skips a rewrite that raises; so does transpile, noting it in one
    line (no traceback), and the module is still correct."""
    import logging

    from oracle import import_source as load
    from pytensor.tensor.rewriting import math as rmath

    def broken(fgraph, node):
        raise ValueError("this rewrite is broken")

    rewriter = rmath.local_exp_log if hasattr(rmath, "local_exp_log") else None
    if rewriter is None:
        pytest.skip("no local_exp_log rewrite in this PyTensor")
    monkeypatch.setattr(rewriter, "fn", broken)
    x = pt.vector("x")
    with caplog.at_level(logging.WARNING, logger="transpile"):
        source = transpile.transpile(([x], [pt.exp(pt.log(x))]))
    notes = [r.getMessage() for r in caplog.records if r.name == "transpile"]
    assert len(notes) == 1 and "\n" not in notes[0], notes
    assert "local_exp_log on" in notes[0] and "Traceback" not in notes[0], notes
    module = load(source, stem="sec_rewrite")
    np.testing.assert_allclose(module.kernel(np.array([0.5, 2.0])), [0.5, 2.0])


def test_mutated_real_pickles_never_crash_hang_or_print_a_traceback(tmp_path):
    """Truncations, byte flips and swapped opcodes of real graph pickles, loaded in a
    subprocess (so that a crash would show as a signal): each one loads or is refused
    as a TranspileError.  TRANSPILE_FUZZ_PICKLES sets how many (default 150)."""
    count = int(os.environ.get("TRANSPILE_FUZZ_PICKLES", "150"))
    seeds = []
    x, s = pt.vector("x"), pt.scalar("s")
    ys = pytensor.scan(lambda a, h: h * a + s, sequences=[x], outputs_info=[s],
                       return_updates=False)
    seeds.append(graph_bytes([x, s], [ys, pt.exp(x).sum(), x[1:3], pt.switch(x > 0, x, 0)]))
    m = pt.matrix("m")
    seeds.append(pickle.dumps(([m], [pt.linalg.inv(m) @ m, m.T.sum(axis=0)]), protocol=2))
    seeds.append(pickle.dumps(FunctionGraph([x], [pt.cumsum(x) * 2], clone=True), protocol=0))
    for k, data in enumerate(seeds):
        (tmp_path / f"seed{k}.pkl").write_bytes(data)
    script = FUZZ_SCRIPT.format(count=count, seeds=[str(tmp_path / f"seed{k}.pkl")
                                                      for k in range(len(seeds))])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=20 * MINUTE, env={**os.environ, "PYTHONPATH": str(TESTS)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "UNEXPECTED" not in proc.stdout, proc.stdout[-2000:]
    assert f"done {count}" in proc.stdout


FUZZ_SCRIPT = '''
import pickletools, random, sys, time, signal
from transpile.errors import TranspileError
from transpile.load import load_bytes, to_fgraph
sys.setrecursionlimit(10000)
seeds = [open(p, "rb").read() for p in {seeds}]
rng = random.Random(20261201)
opcodes = [op.code.encode("latin-1") for op in pickletools.opcodes]

def mutate(data):
    kind = rng.randrange(4)
    data = bytearray(data)
    if kind == 0:
        return bytes(data[: rng.randrange(1, len(data))])
    if kind == 1:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 2:
        positions = [pos for _, _, pos in pickletools.genops(bytes(data)) if pos]
        pos = rng.choice(positions)
        data[pos:pos + 1] = rng.choice(opcodes)
        return bytes(data)
    a, b = sorted(rng.sample(range(len(data)), 2))
    return bytes(data[:a] + data[b:a + (b - a) // 2 + 1] + data[a:])

def alarm(*_):
    raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
for k in range({count}):
    data = mutate(seeds[k % len(seeds)])
    signal.alarm(30)
    try:
        to_fgraph(load_bytes(data))
    except TranspileError:
        pass
    except TimeoutError:
        print("UNEXPECTED hang", k)
    except Exception as exc:
        print("UNEXPECTED", k, type(exc).__name__, str(exc)[:200])
    finally:
        signal.alarm(0)
print("done", {count})
'''
