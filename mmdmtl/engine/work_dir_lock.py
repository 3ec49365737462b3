"""An exclusive lock on a training run's ``work_dir``.

Two training runs writing into one ``work_dir`` overwrite each other's
checkpoints, ``last_checkpoint`` and temporary files. :class:`WorkDirLock`
takes an ``fcntl.flock`` lock on ``<work_dir>/.lock`` for as long as a run
trains. The kernel drops the lock when the holding process exits, however it
exits (crash, SIGKILL), so a stale lock file never blocks a later run. The
file holds the holder's pid, host, start time and command line, which the
error raised for a second run prints.
"""
import datetime
import errno
import json
import os
import os.path as osp
import socket
import sys
from typing import Optional

try:  # POSIX only; on other systems the lock is skipped (see acquire)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Name of the lock file inside the work_dir.
LOCK_FILENAME = '.lock'


class WorkDirLockedError(RuntimeError):
    """Another process holds the lock of the work_dir."""


class WorkDirLock:
    """Exclusive, non-blocking lock on ``<work_dir>/.lock``.

    Args:
        work_dir: the folder to lock (created if missing).

    Use as a context manager or with :meth:`acquire` / :meth:`release`.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_FILENAME)
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and record this process in the lock file.

        Raises:
            WorkDirLockedError: another process holds it; the message names
                that process (pid, host, start time, command) and the file.
        """
        if self._fd is not None:
            return
        if fcntl is None:  # pragma: no cover - Windows
            return
        os.makedirs(self.work_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise WorkDirLockedError(
                f'work_dir {self.work_dir} is in use by another training run '
                f'({describe_holder(self.path)}). Two runs in one work_dir '
                'would overwrite each other\'s checkpoints and logs: wait until '
                'that run ends, stop it, or pass another --work-dir. The lock '
                f'({self.path}) is released automatically when that process '
                'exits.') from None
        info = dict(pid=os.getpid(), host=socket.gethostname(),
                    started=datetime.datetime.now(datetime.timezone.utc)
                    .isoformat(timespec='seconds'),
                    command=' '.join(sys.argv))
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (the file stays; deleting it would race with a
        process that has just opened it)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def describe_holder(path: str) -> str:
    """``'pid P on host H, started T: COMMAND'`` from a lock file, or a note
    that the holder did not record itself (yet)."""
    try:
        with open(path, encoding='utf-8') as f:
            info = json.load(f)
        return (f'pid {info["pid"]} on host {info["host"]}, started '
                f'{info["started"]}: {info["command"]}')
    except (OSError, ValueError, KeyError, TypeError):
        return 'its pid and host are not recorded in the lock file yet'
