"""The files a run writes: never through a symbolic link, each one tracked, so that the leak gate
judges (and may remove) only what this run wrote, never a user's own file in the same folder.

Every file is written to a fresh temporary name in its folder (O_EXCL: a planted link cannot be
opened) and renamed over the final name: a link planted there is replaced, never followed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def json_text(data: object, sort_keys: bool = False, ensure_ascii: bool = False) -> str:
    """The one JSON writer of the run's files: results.json, and the objects in the escalation packet (those sorted,
    ASCII-only)."""
    return json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=str) + "\n"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Artifacts:
    def __init__(self) -> None:
        self._files: dict[Path, tuple[int, int]] = {}  # path -> (device, inode) as written
        self._mode = 0o666 & ~_umask()

    def write(self, path: Path, data: bytes | str) -> Path:
        """Write `path` atomically without following links; OSError when it cannot be written."""
        blob = data.encode("utf-8") if isinstance(data, str) else data
        path = Path(path)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), self._mode)
                f.write(blob)
            os.replace(temp, path)  # replaces a link at `path` itself, never its target
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._track(path)
        return path

    def create_unique(self, directory: Path, stem: str, suffix: str) -> tuple[Path, int]:
        """A new file `<stem><suffix>` (else `<stem>-2<suffix>`, ...) that no other run or link holds:
        O_EXCL decides, so two runs in the same second never share a name. Returns the path and an fd."""
        for n in range(1, 1000):
            path = Path(directory) / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            try:
                fd = os.open(path, _FLAGS, self._mode)
            except FileExistsError:
                continue
            st = os.fstat(fd)
            self._files[path] = (st.st_dev, st.st_ino)
            return path, fd
        raise FileExistsError(f"no free name for {stem}{suffix} in {directory}")

    def _track(self, path: Path) -> None:
        st = os.lstat(path)
        self._files[path] = (st.st_dev, st.st_ino)

    def owned(self, path: Path) -> bool:
        """Still the very file this run wrote (not replaced by a link or another file since)."""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return self._files.get(Path(path)) == (st.st_dev, st.st_ino)

    @property
    def paths(self) -> list[Path]:
        return [p for p in self._files if self.owned(p)]

    def remove(self, path: Path) -> bool:
        """Remove a file only if this run wrote it and it is still that file."""
        if not self.owned(path):
            return False
        os.unlink(path)
        self._files.pop(Path(path), None)
        return True
