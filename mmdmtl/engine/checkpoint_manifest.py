"""A record of the checkpoints a run saved, with their SHA-256.

:class:`~mmdmtl.engine.MTLRunner` adds every checkpoint it writes to
``<checkpoint folder>/checkpoints.sha256.json`` (file name -> size and
SHA-256; names are relative, so a copied work_dir keeps a valid record).
An auto-resume checks each candidate against the record and skips a file
whose bytes changed since the run saved it: torch reads a checkpoint whose
tensor data was overwritten (a disk or copy error) without complaint, so
without the record such a file would be resumed silently.

The record is about integrity, not trust: every checkpoint, recorded or
not, is loaded with the safe (``weights_only``) unpickler only.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional

#: File name of the record inside the checkpoint folder.
MANIFEST_NAME = 'checkpoints.sha256.json'


def sha256_of(path: str, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: str) -> Dict[str, dict]:
    """The record of ``folder`` (empty if missing or unreadable)."""
    path = osp.join(folder, MANIFEST_NAME)
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(
        data, dict) else {}


def record_checkpoint(path: str) -> None:
    """Add the saved checkpoint ``path`` to its folder's record, dropping
    entries of files that no longer exist; the record is replaced
    atomically."""
    folder, name = osp.split(osp.abspath(path))
    entries = {k: v for k, v in read_manifest(folder).items()
               if osp.isfile(osp.join(folder, k))}
    entries[name] = dict(size=osp.getsize(path), sha256=sha256_of(path))
    tmp = osp.join(folder, f'{MANIFEST_NAME}.{os.getpid()}.part')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(entries, f, indent=1, sort_keys=True)
    os.replace(tmp, osp.join(folder, MANIFEST_NAME))


def changed_since_saved(path: str) -> Optional[str]:
    """Why ``path`` differs from what the run recorded when saving it, or
    None if it matches or was not recorded."""
    folder, name = osp.split(osp.abspath(path))
    entry = read_manifest(folder).get(name)
    if entry is None or not osp.isfile(path):
        return None
    size = osp.getsize(path)
    if entry.get('size') is not None and size != entry['size']:
        return (f'it has {size} bytes, but {entry["size"]} were saved '
                f'(recorded in {osp.join(folder, MANIFEST_NAME)})')
    if entry.get('sha256') and sha256_of(path) != entry['sha256']:
        return ('its SHA-256 differs from the one recorded when it was saved '
                f'(in {osp.join(folder, MANIFEST_NAME)}): the file was modified '
                'or corrupted')
    return None
