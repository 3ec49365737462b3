"""Every shipped config resolves to the same dict as in the committed snapshot.

``tests/data/config_snapshots/resolved_configs.json`` holds, for each config
under ``configs/`` (``_base_/`` excluded), ``Config.fromfile(path).to_dict()``
with sorted keys, plus the order of the head's tasks (the one dict whose key
order is behaviour: it is the order of the task heads and of the losses).
A refactoring of the configs (moving lines into a shared base, changing
``_base_`` chains) must leave every resolved config unchanged; this test fails
on any difference and names the config and the first differing key.

To change a shipped config deliberately, regenerate the snapshot and commit it
with the config change (the diff of the JSON file shows what changed)::

    PYTHONPATH=$PWD python tests/test_configs/test_config_resolution_snapshot.py --update
"""
import argparse
import glob
import json
import os.path as osp
from typing import Any, Dict, List

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SNAPSHOT = osp.join(ROOT, 'tests', 'data', 'config_snapshots', 'resolved_configs.json')


def shipped_configs() -> List[str]:
    """Paths of the shipped configs relative to the project root, sorted."""
    paths = glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    rels = (osp.relpath(p, ROOT) for p in paths)
    return sorted(r.replace(osp.sep, '/') for r in rels if '_base_' not in r.split(osp.sep))


def resolve(rel: str) -> Dict[str, Any]:
    """The snapshot entry of one config: its JSON-normalised resolved dict
    (tuples become lists, as in the stored file) and its head's task order."""
    cfg = Config.fromfile(osp.join(ROOT, rel))
    resolved = json.loads(json.dumps(cfg.to_dict(), sort_keys=True))
    head = cfg.get('model', {}).get('decode_head', {})
    return dict(config=resolved,
                head_task_order=list(head.get('tasks', {})),
                loss_task_order=list(head.get('loss_decode', {})))


def _first_difference(a: Any, b: Any, path: str = '') -> str:
    """A readable pointer to the first place where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a:
                return f'{path}.{key}: missing now (snapshot: {b[key]!r})'
            if key not in b:
                return f'{path}.{key}: new key (now: {a[key]!r})'
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f'{path}.{key}')
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f'{path}[{i}]')
    return f'{path}: now {a!r}, snapshot {b!r}'


def _load_snapshot() -> Dict[str, Any]:
    with open(SNAPSHOT, encoding='utf-8') as f:
        return json.load(f)


def test_snapshot_lists_every_shipped_config():
    assert sorted(_load_snapshot()) == shipped_configs(), (
        f'configs added or removed: regenerate {SNAPSHOT} deliberately '
        '(see this module\'s docstring)')


@pytest.mark.parametrize('rel', shipped_configs())
def test_config_resolves_as_snapshot(rel):
    snapshot = _load_snapshot()
    if rel not in snapshot:
        pytest.fail(f'{rel} is not in {SNAPSHOT}; regenerate it deliberately')
    now = resolve(rel)
    assert now == snapshot[rel], (
        f'{rel} resolves differently from the committed snapshot: '
        f'{_first_difference(now, snapshot[rel])}')


def main() -> None:
    """Regenerate the snapshot (``--update``) from the configs as they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--update', action='store_true', required=True)
    parser.parse_args()
    data = {rel: resolve(rel) for rel in shipped_configs()}
    with open(SNAPSHOT, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'wrote {len(data)} configs to {SNAPSHOT}')


if __name__ == '__main__':
    main()
