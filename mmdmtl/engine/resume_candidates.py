"""Which checkpoints an auto-resume (``--resume`` without a file) may use.

mmengine reads ``<work_dir>/last_checkpoint``, which holds an *absolute*
path: in a copied (or moved) work_dir it names the checkpoint of the
original folder, so the copy would resume from, and later delete files of,
the original. And if that one file is missing or truncated, mmengine stops.

:func:`resume_candidates` instead lists the checkpoints of the work_dir
being resumed, newest first: the file ``last_checkpoint`` names (looked up
by its file name in this run's checkpoint folder, wherever it was written),
then every file matching the CheckpointHook's ``filename_tmpl`` by
decreasing step. The runner tries them in order and skips unreadable ones.
"""
import os
import os.path as osp
import re
from typing import Any, List, Optional, Tuple

#: Fallback pattern for checkpoint names when the template is not plain.
_DEFAULT_PATTERN = r'(?:iter|epoch)_(\d+)\.pth'


def relocate(path: str, folder: str) -> str:
    """``path`` if it lies inside ``folder``, else the file of the same name
    in ``folder`` (paths recorded by another copy of the work_dir)."""
    if is_inside(path, folder):
        return path
    return osp.join(folder, osp.basename(path.rstrip('/\\')))


def is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` (resolved) lies inside ``folder`` (resolved)."""
    path = osp.realpath(osp.expanduser(path))
    folder = osp.realpath(osp.expanduser(folder))
    return osp.commonpath([path, folder]) == folder


def checkpoint_folder(work_dir: str, hook: Any) -> Optional[str]:
    """The local folder a CheckpointHook writes to: the work_dir unless the
    hook's ``out_dir`` is set, then ``<out_dir>/<work_dir name>`` (as
    mmengine's hook does), or None for remote storage (``s3://...``).

    Args:
        work_dir: The run's work_dir.
        hook: The runner's ``CheckpointHook`` (or None).
    """
    out_dir = getattr(hook, 'out_dir', None)
    if out_dir is None or str(out_dir) == work_dir:
        return work_dir
    out_dir = str(out_dir)
    if '://' in out_dir:
        return None
    if getattr(hook, 'file_backend', None) is not None:
        return out_dir  # the hook's before_train already set its folder
    return osp.join(out_dir, osp.basename(work_dir.rstrip(osp.sep)))


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path recorded in ``<work_dir>/last_checkpoint`` (None if there is
    no such file or it is empty)."""
    save_file = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(save_file):
        return None
    with open(save_file, encoding='utf-8', errors='replace') as f:
        recorded = f.read().strip()
    return recorded or None


def resume_candidates(work_dir: str, ckpt_dir: str,
                      filename_tmpl: Optional[str]) -> Tuple[List[str], Optional[str]]:
    """Checkpoints of ``ckpt_dir`` to try for an auto-resume, newest first.

    Args:
        work_dir: the run's work_dir (holds ``last_checkpoint``).
        ckpt_dir: the folder the CheckpointHook writes to (usually
            ``work_dir``).
        filename_tmpl: the hook's ``filename_tmpl`` (e.g. ``'iter_{}.pth'``);
            None or a template with format specs matches ``iter_N.pth`` and
            ``epoch_N.pth``.

    Returns:
        The candidate paths (all inside ``ckpt_dir``; the first may not
        exist) and the path ``last_checkpoint`` recorded (None if none).
    """
    recorded = read_last_checkpoint(work_dir)
    candidates = []
    if recorded is not None:
        candidates.append(osp.join(ckpt_dir, osp.basename(recorded.rstrip('/\\'))))
    if filename_tmpl and filename_tmpl.count('{}') == 1:
        head, tail = filename_tmpl.split('{}')
        pattern = re.escape(head) + r'(\d+)' + re.escape(tail)
    else:
        pattern = _DEFAULT_PATTERN
    steps = []
    if osp.isdir(ckpt_dir):
        for name in os.listdir(ckpt_dir):
            m = re.fullmatch(pattern, name)
            if m and osp.isfile(osp.join(ckpt_dir, name)):
                steps.append((int(m.group(1)), name))
    for _, name in sorted(steps, reverse=True):
        path = osp.join(ckpt_dir, name)
        if path not in candidates:
            candidates.append(path)
    return candidates, recorded
