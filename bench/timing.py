"""Timing helpers shared by bench/run.py and bench/pymc_bench.py."""

import statistics
import time


def median_time(fn, args, repeat: int, max_number: int = 20000,
                budget: float = 0.02) -> float:
    """Median seconds per call of ``fn(*args)`` over ``repeat`` samples, each a batch
    of calls sized to take about ``budget`` seconds (at most ``max_number`` calls),
    after one warm-up call."""
    fn(*args)
    start = time.perf_counter()
    fn(*args)
    single = time.perf_counter() - start
    number = max(1, min(max_number, int(budget / max(single, 1e-7))))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def replace_section(path, section: str, text: str) -> None:
    """Put ``text`` (starting with the ``section`` heading) in place of that section
    of the markdown file ``path`` (up to the next ``## `` heading), else at its end."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    if section in doc:
        head, _, rest = doc.partition(section)
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1:] if nxt >= 0 else ""
        doc = head + text + ("\n" + tail if tail else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc)


def import_file(path, name: str | None = None):
    """Import the module at ``path`` as ``name`` (its stem by default), registered in
    ``sys.modules`` as a normal import is: Numba's cache records a function's module
    by name and imports it by that name when a later process loads the cache."""
    import importlib.util
    import sys

    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
