"""The data directory holds customers' names and dates of birth (journal, snapshots, SQL store,
list versions, secrets): every file in it is readable by its owner only, whatever the umask.

Files are created 0600 by passing that mode to open (a umask only ever removes bits), and
directories 0700 with a chmod after mkdir; `tighten` brings an existing directory into line.
"""

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """`path` as a directory of mode 0700, created if need be with any missing parents (0700
    too: mkdir's mode is cut by the umask, and parents=True would ignore it)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
    target = missing[0] if missing else path
    for directory in missing or [path]:
        if directory.stat().st_mode & 0o777 != DIR_MODE:
            os.chmod(directory, DIR_MODE)
    return target


def create_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_EXCL) -> int:
    """A file descriptor for `path`, a file that is created 0600."""
    return os.open(path, flags, FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` whole with `data` in a new 0600 file, durable before it replaces it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    with os.fdopen(create_private(tmp), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def tighten(root: Path) -> None:
    """Make `root` and every directory under it 0700 and every file 0600 (data directories
    written by an earlier version, or copied in with a looser mode)."""
    private_dir(root)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            _chmod(Path(parent, name), DIR_MODE)
        for name in files:
            _chmod(Path(parent, name), FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        st = path.lstat()
        if not path.is_symlink() and st.st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass  # removed meanwhile (a temporary file)
