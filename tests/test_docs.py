from pathlib import Path

import pytensor
import pytest

from transpile.supported import markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.skipif(not pytensor.__version__.startswith("2.38"),
                    reason="the table names PyTensor 2.38's modules (CI's version)")
def test_supported_ops_table_is_fresh():
    committed = (DOCS / "supported-ops.md").read_text()
    assert committed == markdown(), (
        "docs/supported-ops.md is stale: run "
        "`.venv/bin/python -m transpile.supported > docs/supported-ops.md`"
    )


def test_readme_shows_the_committed_seed_module():
    """The README's side-by-side shows the generated entry as committed (and the
    committed examples are checked fresh by test_examples)."""
    root = DOCS.parent
    readme = (root / "README.md").read_text()
    shown = readme.split("The generated entry", 1)[1].split("```python\n", 1)[1]
    shown = shown.split("```", 1)[0]
    kernel = (root / "generated_examples" / "seed_recurrence" / "kernel.py").read_text()
    entry = kernel[kernel.index("@numba.njit"):]
    assert shown.strip() == entry.strip(), (
        "README.md's seed example is stale: paste generated_examples/seed_recurrence/"
        "kernel.py's entry into it")
