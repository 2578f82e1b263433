from pathlib import Path

from transpile.supported import markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_supported_ops_table_is_fresh():
    committed = (DOCS / "supported-ops.md").read_text()
    assert committed == markdown(), (
        "docs/supported-ops.md is stale: run "
        "`.venv/bin/python -m transpile.supported > docs/supported-ops.md`"
    )
