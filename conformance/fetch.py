"""PyTensor's ``tests/`` tree at the installed release's tag, under ``<root>/src/``.

From ``$PYTENSOR_REPO`` (a local clone or a bare mirror) with ``git archive`` when it
is set, else by a shallow clone of https://github.com/pymc-devs/pytensor.  The root
``conftest.py`` comes along (it sets the suite's PyTensor flags and ``--runslow``), and
a ``pytest.ini`` of ours with the settings of PyTensor's own pytest configuration that
matter here (strict xfail), so that pytest does not pick up this repository's.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

URL = "https://github.com/pymc-devs/pytensor"
PYTEST_INI = """\
# Written by conformance/fetch.py: the parts of PyTensor's own pytest settings the
# Numba suite relies on.
[pytest]
xfail_strict = true
filterwarnings =
    ignore:^Numba will use object mode to run.*perform method\\.:UserWarning
"""


def release_tag(version: str) -> str:
    match = re.match(r"\d+\.\d+\.\d+", version)
    if not match:
        raise SystemExit(f"conformance: cannot tell the release tag of PyTensor {version}")
    return f"rel-{match.group(0)}"


def _git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def _extract(tag: str, into: Path) -> None:
    repo = os.environ.get("PYTENSOR_REPO")
    if repo:
        archive = subprocess.run(
            ["git", f"--git-dir={_git_dir(Path(repo))}", "archive", tag, "tests", "conftest.py"],
            check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
        return
    clone = into / "clone"
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", tag, URL, str(clone)],
                   check=True)
    for name in ("tests", "conftest.py"):
        shutil.move(str(clone / name), str(into / name))
    shutil.rmtree(clone)


def fetch_tests(root: Path, version: str) -> Path:
    """The directory holding ``tests/`` (fetched once per tag)."""
    tag = release_tag(version)
    src = root / "src" / tag
    if not (src / "tests").is_dir():
        src.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{tag}.", dir=src.parent))
        _extract(tag, tmp)
        (tmp / "pytest.ini").write_text(PYTEST_INI)
        shutil.rmtree(src, ignore_errors=True)
        tmp.rename(src)
    return src
