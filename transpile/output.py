"""Write: text -> stdout or a file, atomically."""

import os
import tempfile
from pathlib import Path

from .errors import TranspileError


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, else what a plain ``open`` would give."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_output_dir(path) -> None:
    """Refuse, before any work, an output whose directory is not there."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise TranspileError(f"cannot write {path}: no such directory: {parent}")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename.

    Readers never see a half-written file, and on any error the old file (if any) is
    left as it was and no temporary file remains.  A symlink is written through.
    """
    write_all_atomic([(path, data)])


def write_all_atomic(files) -> None:
    """Write each ``(path, data)`` of ``files`` as :func:`write_atomic` does, all or
    none: every file is written to a temporary file beside its target first, and
    only when all are written are they renamed into place, in order (a failure
    before then leaves every target as it was and no temporary file behind)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            path = Path(path)
            if path.is_symlink():
                path = path.resolve()
            staged.append((_stage(path, data), path))
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise TranspileError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _stage(path: Path, data: bytes | str) -> str:
    """A temporary file beside ``path`` holding ``data``, with ``path``'s mode."""
    payload = data.encode() if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent)
    except OSError as exc:
        raise TranspileError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise TranspileError(f"cannot write {path}: {exc.strerror}") from None
        raise
    return tmp
