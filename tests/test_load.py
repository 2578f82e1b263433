"""Loading graph pickles: every accepted form, ``transpile.dump``, and the
restricted unpickler's refusals (each names the offending global, and nothing the
pickle asked for runs)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import import_source
from pytensor.graph.fg import FunctionGraph

import transpile
from transpile.load import graph_digest, load_bytes, load_file, load_object, to_fgraph


@pytest.fixture
def graph():
    x = pt.vector("x")
    s = pt.scalar("s")
    return [x, s], [pt.exp(x) * s, (x**2).sum()]


def _digest(obj):
    return graph_digest(to_fgraph(obj))


def _roundtrip(obj, protocol=pickle.HIGHEST_PROTOCOL, allowed=()):
    return to_fgraph(load_bytes(pickle.dumps(obj, protocol=protocol), allowed))


# ---- accepted forms ----------------------------------------------------------------


def test_every_form_loads_as_the_same_graph(graph):
    inputs, outputs = graph
    want = _digest((inputs, outputs))
    forms = {
        "pair": (inputs, outputs),
        "pair as list": [inputs, outputs],
        "FunctionGraph": FunctionGraph(inputs, outputs, clone=True),
    }
    for label, obj in forms.items():
        fgraph = _roundtrip(obj)
        assert [v.name for v in fgraph.inputs] == ["x", "s"], label
        assert len(fgraph.outputs) == 2, label
        assert graph_digest(fgraph) == want, label


def test_a_compiled_function_loads_as_the_graph_it_runs(graph):
    fn = pytensor.function(*graph, mode="FAST_COMPILE")
    fgraph = _roundtrip(fn)
    assert [v.name for v in fgraph.inputs] == ["x", "s"]
    assert len(fgraph.outputs) == 2
    assert graph_digest(fgraph) == graph_digest(fn.maker.fgraph)


def test_outputs_alone_take_their_free_variables_as_inputs(graph):
    (x, s), (y, total) = graph
    fgraph = _roundtrip([y, total])
    assert {v.name for v in fgraph.inputs} == {"x", "s"}
    assert [v.name for v in _roundtrip(total).inputs] == ["x"]  # a lone variable


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol(graph, protocol):
    # Protocols 0-2 spell globals the Python 2 way (__builtin__.set, _codecs.encode).
    assert graph_digest(_roundtrip(graph, protocol)) == _digest(graph)


@pytest.mark.parametrize("protocol", [2, 3])
def test_nested_functions_by_getattr(protocol):
    # Protocols 2-3 spell the staticmethod Sign._output_types_preference as
    # getattr(Sign, "_output_types_preference").
    x = pt.vector("x")
    data = pickle.dumps(FunctionGraph([x], [pt.sign(x)], clone=True), protocol)
    assert b"_output_types_preference" in data
    assert len(to_fgraph(load_bytes(data)).outputs) == 1


def test_a_compiled_function_is_neither_compiled_nor_run_on_load(graph, monkeypatch):
    try:
        from pytensor.compile.function.types import FunctionMaker
    except ImportError:  # PyTensor 3
        from pytensor.compile.maker import FunctionMaker

    fn = pytensor.function(*graph, mode="FAST_RUN")
    data = pickle.dumps(fn)

    def forbidden(*args, **kwargs):
        raise AssertionError("loading compiled the Function")

    monkeypatch.setattr(FunctionMaker, "create", forbidden)
    monkeypatch.setattr(FunctionMaker, "__init__", forbidden)
    fgraph = to_fgraph(load_bytes(data))
    assert graph_digest(fgraph) == graph_digest(fn.maker.fgraph)


def test_a_compiled_function_runs_as_the_same_kernel(graph, tmp_path):
    fn = pytensor.function(*graph, mode="FAST_COMPILE")
    path = tmp_path / "fn.pkl"
    path.write_bytes(pickle.dumps(fn))
    module = import_source(transpile.transpile(path))
    x, s = np.linspace(-1, 1, 5), 2.5
    for got, want in zip(module.kernel(x, s), fn(x, s), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_shared_variables_not_among_the_inputs_are_frozen():
    x = pt.vector("x")
    w = pytensor.shared(np.array([1.0, 2.0, 3.0]), name="w")
    fgraph = _roundtrip(([x], [x * w]))
    w.set_value(np.zeros(3))  # later changes do not reach the loaded graph
    assert fgraph.inputs[0].name == "x" and len(fgraph.inputs) == 1
    constants = [v for v in fgraph.variables if v.name == "w"]
    assert len(constants) == 1
    assert isinstance(constants[0], pytensor.graph.basic.Constant)
    np.testing.assert_array_equal(constants[0].data, [1.0, 2.0, 3.0])


def test_an_input_computed_from_others_cuts_the_graph():
    x = pt.vector("x")
    y = pt.exp(x)
    y.name = "y"
    fgraph = to_fgraph(([y], [y * 2]))
    assert [v.name for v in fgraph.inputs] == ["y"] and fgraph.inputs[0].owner is None
    assert not any(type(n.op).__name__ == "Elemwise" and "exp" in str(n.op).lower()
                   for n in fgraph.apply_nodes)


def test_shared_variables_listed_as_inputs_stay_inputs():
    x = pt.vector("x")
    w = pytensor.shared(np.ones(3), name="w")
    fgraph = to_fgraph(([x, w], [x * w]))
    assert [v.name for v in fgraph.inputs] == ["x", "w"]


def test_a_function_updating_shared_state_takes_and_returns_it():
    x = pt.vector("x")
    frozen = pytensor.shared(np.full(3, 2.0), name="frozen")
    state = pytensor.shared(np.zeros(3), name="state")
    fn = pytensor.function([x], x * frozen + state, updates={state: state + x},
                           mode="FAST_COMPILE")
    fgraph = _roundtrip(fn)
    assert [v.name for v in fgraph.inputs] == ["x", "state"]
    assert len(fgraph.outputs) == 2  # the output, then the new state
    module = import_source(transpile.transpile(fn))
    out, new_state = module.kernel(np.ones(3), np.full(3, 10.0))
    np.testing.assert_array_equal(out, np.full(3, 12.0))
    np.testing.assert_array_equal(new_state, np.full(3, 11.0))


# ---- transpile.dump --------------------------------------------------------------


def test_dump_round_trip(graph, tmp_path):
    inputs, outputs = graph
    path = tmp_path / "graph.pkl"
    transpile.dump(inputs, outputs, path)
    loaded = load_file(path)
    assert loaded.source == "graph.pkl"
    assert loaded.digest == load_object(graph).digest
    assert [v.name for v in loaded.fgraph.inputs] == ["x", "s"]
    # No temporary file left, and no stack traces (with this file's path) inside.
    assert os.listdir(tmp_path) == ["graph.pkl"]
    assert os.path.basename(__file__).encode() not in path.read_bytes()


def test_dump_accepts_a_single_output_and_freezes_shared(tmp_path):
    x = pt.vector("x")
    w = pytensor.shared(np.arange(3.0), name="w")
    transpile.dump([x], x + w, tmp_path / "g.pkl")
    fgraph = load_file(tmp_path / "g.pkl").fgraph
    assert len(fgraph.inputs) == 1 and len(fgraph.outputs) == 1


def test_dump_refuses_a_bad_graph_and_writes_nothing(tmp_path):
    x = pt.vector("x")
    y = x + 1
    cases = [
        ([x], "not a variable", "outputs must be PyTensor variables"),
        ([], [y], "depend on x which is not among the inputs"),
        ([x], [], "no outputs"),
        ([x, x], [y], "listed twice"),
        ([x, pt.constant(1.0)], [y], "is a constant"),
    ]
    for inputs, outputs, message in cases:
        with pytest.raises(transpile.TranspileError, match=message):
            transpile.dump(inputs, outputs, tmp_path / "g.pkl")
    assert not os.listdir(tmp_path)


# ---- hostile pickles -----------------------------------------------------------------


class Call:
    """Pickles as ``fn(*args)``: what a hostile pickle asks the loader to run."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _global(module: str, name: str, proto: int = 4) -> bytes:
    """A pickle (protocol ``proto``) that loads ``module.name`` and stops."""
    return bytes([0x80, proto]) + f"c{module}\n{name}\n".encode() + b"."


def _call(module: str, name: str, *args) -> bytes:
    """A hand-written pickle: GLOBAL module.name, MARK, args, TUPLE, REDUCE, STOP."""
    body = b"".join(pickle.dumps(a, protocol=2)[2:-1] for a in args)
    return b"\x80\x02" + f"c{module}\n{name}\n".encode() + b"(" + body + b"tR."


def _refused(data: bytes, *fragments: str, allowed=()):
    with pytest.raises(transpile.LoadError) as info:
        load_bytes(data, allowed)
    for fragment in fragments:
        assert fragment in str(info.value)
    return str(info.value)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "the pickle ran its command"


def test_os_system_is_refused(marker):
    _refused(pickle.dumps(Call(os.system, f"touch {marker}")), "posix.system",
             "--allow-module posix")
    _refused(_call("os", "system", f"touch {marker}"), "'os.system'")
    _refused(_call("posix", "system", f"touch {marker}"), "'posix.system'")
    _refused(_call("nt", "system", f"touch {marker}"), "'nt.system'")


def test_subprocess_and_eval_are_refused(marker):
    _refused(pickle.dumps(Call(subprocess.Popen, ["touch", str(marker)])),
             "'subprocess.Popen'")
    code = f"__import__('os').system('touch {marker}')"
    _refused(pickle.dumps(Call(eval, code)), "'builtins.eval'")
    _refused(pickle.dumps(Call(exec, code)), "'builtins.exec'")
    _refused(_call("builtins", "__import__", "os"), "'builtins.__import__'")
    _refused(_call("__builtin__", "eval", code), "'builtins.eval'")  # Python 2 spelling


def test_modules_are_refused_even_inside_allowed_packages():
    _refused(_global("pytensor.tensor.basic", "np"), "'pytensor.tensor.basic.np'",
             "it is a module")
    _refused(_global("numpy", "ctypeslib"), "'numpy.ctypeslib'", "it is a module")
    _refused(_call("pytensor.configdefaults", "os"), "'pytensor.configdefaults.os'")
    # A dotted name may not walk through a module to what it imported.
    _refused(_global("pytensor", "utils.subprocess.Popen"),
             "'pytensor.utils.subprocess.Popen'", "module")
    _refused(_global("numpy", "ctypeslib.ctypes.CDLL"), "module")


def test_private_names_are_refused():
    _refused(_global("pytensor", "__builtins__"), "'pytensor.__builtins__'",
             "private name")
    _refused(_global("numpy", "__loader__"), "private name")
    _refused(_global("pytensor.graph.basic", "Variable.__init__.__globals__"),
             "private name")


def test_numpy_file_and_library_access_is_refused(tmp_path):
    target = str(tmp_path / "x.npy")
    _refused(_call("numpy", "load", target), "'numpy.load'", "touch files")
    _refused(_call("numpy", "memmap", target), "'numpy.memmap'", "touch files")
    _refused(_call("numpy", "fromfile", target), "'numpy.fromfile'")
    _refused(_call("numpy.ctypeslib", "load_library", "libc", "/lib"),
             "'numpy.ctypeslib.load_library'")
    _refused(_global("numpy.lib._datasource", "DataSource"), "DataSource")
    _refused(_call("numpy", "save", target, 1), "'numpy.save'")
    assert not os.listdir(tmp_path)


def test_functions_that_compile_or_run_graphs_are_refused():
    _refused(_global("pytensor.gradient", "verify_grad"), "verify_grad",
             "only classes")
    _refused(_global("pytensor", "function"), "'pytensor.function'")
    _refused(_global("pytensor.link.c.op", "ExternalCOp"), "ExternalCOp")
    _refused(_global("pytensor.tensor.io", "LoadFromDisk"), "LoadFromDisk")


def test_getattr_reaches_neither_private_attributes_nor_methods(tmp_path):
    out = tmp_path / "written"
    _refused(pickle.dumps(Call(getattr, np.ndarray, "__reduce__")),
             "getattr(ndarray, '__reduce__')", "private")
    # A bound method is a callable like any other: ndarray.tofile writes files.
    _refused(pickle.dumps(Call(np.zeros(3).tofile, str(out))),
             "getattr(ndarray, 'tofile')")
    _refused(pickle.dumps(Call(getattr, FunctionGraph, "clone")),
             "getattr(FunctionGraph, 'clone')")
    assert not out.exists()


def test_no_instance_such_as_the_config_can_be_loaded_or_changed():
    cxx = pytensor.config.cxx
    state = pickle.dumps((None, {"cxx": "/tmp/evil"}), protocol=2)[2:-1]
    _refused(_global("pytensor.tensor.basic", "config")[:-1] + state + b"b.",
             "'pytensor.tensor.basic.config'")
    _refused(_global("pytensor.scalar.basic", "add"), "'pytensor.scalar.basic.add'")
    assert pytensor.config.cxx == cxx


def test_attributes_of_classes_cannot_be_set():
    # BUILD with slot state on a class would be setattr(FunctionGraph, ...).
    state = pickle.dumps((None, {"clone": 1}), protocol=2)[2:-1]
    _refused(_global("pytensor.graph.fg", "FunctionGraph")[:-1] + state + b"b.",
             "sets attributes of FunctionGraph")
    assert callable(FunctionGraph.clone)


def test_type_cannot_make_classes():
    _refused(_call("builtins", "type", "Evil", (), {}), "type()")


# ---- files that are not graphs --------------------------------------------------


def _load_error(path, *fragments):
    with pytest.raises(transpile.TranspileError) as info:
        load_file(path)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_files_that_are_not_graph_pickles(tmp_path, graph):
    text = tmp_path / "model.py"
    text.write_text("import pytensor\n")
    _load_error(text, "not a readable graph pickle")
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    _load_error(empty, "empty file", "empty.pkl")
    data = pickle.dumps(FunctionGraph(*graph, clone=True))
    for cut in (1, 2, len(data) // 3, len(data) // 2, len(data) - 1):
        truncated = tmp_path / "truncated.pkl"
        truncated.write_bytes(data[:cut])
        _load_error(truncated, "not a readable graph pickle")
    _load_error(tmp_path, "is a directory")
    _load_error(tmp_path / "missing.pkl", "no such file", "missing.pkl")


@pytest.mark.parametrize(
    "obj, message",
    [
        (42, "holds an int, not a graph"),
        ({"x": 1}, "holds a dict, not a graph"),
        (None, "holds a NoneType"),
        ("graph", "holds a str"),
        ((1, 2, 3), "holds a tuple"),
    ],
)
def test_pickles_of_other_objects(tmp_path, obj, message):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps(obj))
    error = _load_error(path, message)
    assert isinstance(error, transpile.LoadError)


def test_a_graph_with_no_outputs(tmp_path):
    x = pt.vector("x")
    for obj in ([], ([x], []), FunctionGraph([x], [], clone=True)):
        path = tmp_path / "empty_graph.pkl"
        path.write_bytes(pickle.dumps(obj))
        error = _load_error(path, "no outputs")
        assert isinstance(error, transpile.GraphError)


def test_a_graph_with_a_missing_input():
    x, y = pt.vector("x"), pt.vector("y")
    with pytest.raises(transpile.GraphError, match="depend on y"):
        to_fgraph(([x], [x + y]))


# ---- --allow-module ---------------------------------------------------------------


@pytest.fixture
def custom_pickle():
    from custom_op_demo import times_three

    x = pt.vector("x")
    return pickle.dumps(FunctionGraph([x], [times_three(x)], clone=True))


def test_a_users_op_needs_allow_module(custom_pickle):
    _refused(custom_pickle, "'custom_op_demo.TimesThree'",
             "--allow-module custom_op_demo")
    fgraph = to_fgraph(load_bytes(custom_pickle, ["custom_op_demo"]))
    assert type(fgraph.outputs[0].owner.op).__name__ == "TimesThree"


def test_allow_module_trusts_that_package_only(custom_pickle, marker):
    hostile = pickle.dumps(Call(os.system, f"touch {marker}"))
    _refused(hostile, "posix.system", allowed=["custom_op_demo"])


def test_allow_module_must_be_importable(custom_pickle):
    _refused(custom_pickle, "--allow-module no_such_module_x", "cannot import",
             allowed=["no_such_module_x"])


def test_the_python_api_takes_allow_modules(tmp_path, custom_pickle):
    path = tmp_path / "custom.pkl"
    path.write_bytes(custom_pickle)
    with pytest.raises(transpile.LoadError, match="custom_op_demo.TimesThree"):
        transpile.transpile(path)
    with pytest.raises(transpile.UnsupportedOpError, match="TimesThree"):
        transpile.transpile(path, allow_modules=["custom_op_demo"])


def test_a_refused_module_is_never_imported():
    assert "this" not in sys.modules  # importing it prints the Zen of Python
    _refused(_global("this", "s"), "'this.s'")
    assert "this" not in sys.modules
