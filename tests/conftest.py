import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))

# Every helper the outlining pass writes is checked against each copy it replaces,
# tree against tree (a mismatch fails the transpile: transpile/outline.py).
import transpile.outline  # noqa: E402

transpile.outline.VERIFY = True


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


# TRANSPILE_COLLECT_GRAPHS=DIR: every graph object the suite transpiles is also
# pickled into DIR (the loader's tests then check that each one loads from its file:
# tests/test_load.py::test_every_collected_graph_loads).
_COLLECT = os.environ.get("TRANSPILE_COLLECT_GRAPHS")
if _COLLECT:
    import hashlib
    import pickle

    import transpile

    _transpile = transpile.transpile

    def _collecting(graph, **options):
        if not isinstance(graph, (str, Path)):
            try:
                data = pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - some graphs do not pickle
                data = None
            if data is not None:
                out = Path(_COLLECT)
                out.mkdir(parents=True, exist_ok=True)
                name = hashlib.sha256(data).hexdigest()[:16]
                (out / f"{name}.pkl").write_bytes(data)
        return _transpile(graph, **options)

    transpile.transpile = _collecting
