"""Test fixtures made once per run, whichever xdist worker asks first."""

import os


def once_per_run(tmp_path_factory, name: str, build):
    """``build(folder)`` made once per test run, in a folder shared by the xdist
    workers: the first worker to ask builds it, holding a lock, and the others wait
    and get the same result (pickled beside the folder).  For the subprocess runs of
    the CLI and security tests, which take a minute and would otherwise be made once
    per worker (their xdist_group marks do not keep them on one worker)."""
    import fcntl
    import pickle

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # .../pytest-N, above each worker's popen-gwK
    done = root / f"{name}.result.pkl"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = root / name
        folder.mkdir()
        result = build(folder)
        done.write_bytes(pickle.dumps(result))
        return result
