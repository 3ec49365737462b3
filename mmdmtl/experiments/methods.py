"""Compared methods of the experiment runner, read from config fragments.

Every method is one file ``configs/_base_/experiments/methods/<name>.py``
holding a ``method`` dict (``label`` shown in the tables, ``default``: run
when ``--methods`` is not given, ``order`` in the tables, ``single_task``:
one model per task) and the config keys the method changes, e.g.::

    method = dict(label='DiffusionMTL (Prediction)', default=True, order=2)
    model = dict(decode_head=dict(type='DiffusionMTLHead', variant='prediction'))

A *staged* method continues another method's run: ``start_from='mtl'``
loads the best (else the last) checkpoint of the ``mtl`` run of the same
tasks, label setting and seed (``load_from``) and trains
``iters_scale × --iters`` more iterations with the learning rate of the
full-length runs, e.g. a refinement stage trained on top of a frozen MTL
baseline. The runner trains the method it starts from first (adding it to
the plan when it is not asked for).

The head settings are merged into the base config's head with
:func:`mmdmtl.utils.config_utils.set_head_type` (arguments the new head class
does not take are dropped, e.g. the diffusion settings of an MTL baseline);
any other key is merged like ``--cfg-options``. A method given as a path to
a ``.py`` file (``--methods my_methods/ours.py``) is read the same way.
"""
import glob
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

#: folder of the method fragments, relative to the configs root
METHODS_SUBDIR = osp.join('_base_', 'experiments', 'methods')


def configs_root() -> str:
    """The project's ``configs/`` folder: ``mmdmtl/.mim/configs`` in an
    installed wheel, else the source checkout's ``configs/``."""
    pkg = osp.dirname(osp.dirname(osp.abspath(__file__)))
    mim = osp.join(pkg, '.mim', 'configs')
    if osp.isdir(mim):
        return mim
    return osp.join(osp.dirname(pkg), 'configs')


def methods_dir() -> str:
    """Folder holding one config fragment per compared method."""
    return osp.join(configs_root(), METHODS_SUBDIR)


@dataclass
class MethodSpec:
    """One compared method.

    Attributes:
        name: Short name (the fragment's file name), used in run folders.
        label: Name shown in the tables and plots.
        head: Decode-head overrides (``model.decode_head`` of the fragment).
        cfg_options: Every other config key of the fragment (merged into the
            run config like ``--cfg-options``).
        single_task: Train one model per task (the Δm reference).
        default: Run when ``--methods`` is not given.
        order: Position in the tables.
        path: The fragment file.
        start_from: Name of the method whose run (same tasks, label setting
            and seed) this one continues from (``None``: from scratch).
        iters_scale: Training iterations of a staged run, as a fraction of
            the runner's ``--iters``.
    """
    name: str
    label: str
    head: dict = field(default_factory=dict)
    cfg_options: dict = field(default_factory=dict)
    single_task: bool = False
    default: bool = False
    order: int = 100
    path: str = ''
    start_from: Optional[str] = None
    iters_scale: float = 1.0

    def run_iters(self, iters: int) -> int:
        """Training iterations of this method's runs when the full-length
        runs train ``iters`` (at least 1)."""
        return max(1, int(round(iters * self.iters_scale)))


def load_method(path: str) -> MethodSpec:
    """Read one method fragment (see the module docstring).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the fragment has no ``method`` dict with a ``label``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'method config {path} not found')
    cfg = Config.fromfile(path).to_dict()
    info = cfg.pop('method', None)
    if not isinstance(info, dict) or 'label' not in info:
        raise ValueError(f'method config {path}: needs `method = dict(label=..., '
                         '[default=..., order=..., single_task=...])`')
    unknown = set(info) - {'label', 'default', 'order', 'single_task', 'start_from',
                           'iters_scale'}
    if unknown:
        raise ValueError(f'method config {path}: unknown key(s) {sorted(unknown)} '
                         'in `method`')
    start_from = info.get('start_from')
    if start_from is not None and (not isinstance(start_from, str) or not start_from):
        raise ValueError(f'method config {path}: `start_from` must be a method name, '
                         f'not {start_from!r}')
    scale = info.get('iters_scale', 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f'method config {path}: `iters_scale` must be a number > 0, '
                         f'not {scale!r}')
    if 'iters_scale' in info and start_from is None:
        raise ValueError(f'method config {path}: `iters_scale` is only for a staged '
                         'method (with `start_from`)')
    model = cfg.pop('model', {}) or {}
    head = model.pop('decode_head', {}) or {}
    options = _flatten(cfg)
    options.update(_flatten(model, 'model.'))
    return MethodSpec(
        name=osp.splitext(osp.basename(path))[0], label=str(info['label']),
        head=dict(head), cfg_options=options,
        single_task=bool(info.get('single_task', False)),
        default=bool(info.get('default', False)),
        order=int(info.get('order', 100)), path=path,
        start_from=start_from, iters_scale=float(scale))


def _flatten(d: dict, prefix: str = '') -> Dict[str, object]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (lists and other values kept)."""
    out: Dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def available_methods(folder: str = None) -> Dict[str, MethodSpec]:
    """Every method fragment of ``folder`` (default :func:`methods_dir`),
    by name, in table order."""
    folder = folder or methods_dir()
    specs = [load_method(p) for p in glob.glob(osp.join(folder, '*.py'))]
    specs.sort(key=lambda s: (s.order, s.name))
    return {s.name: s for s in specs}


def resolve_methods(names: List[str]) -> List[MethodSpec]:
    """Method specs of ``names``: names of the bundled fragments or paths to
    fragment files.

    Raises:
        KeyError: a name is neither a bundled method nor a file.
    """
    bundled = available_methods()
    out = []
    for name in names:
        if name in bundled:
            out.append(bundled[name])
        elif name.endswith('.py'):
            out.append(load_method(name))
        else:
            raise KeyError(f'unknown method {name!r}; choose from {list(bundled)} '
                           f'(fragments in {methods_dir()}) or give a .py method config')
    return out


def resolve_with_parents(names: List[str]) -> Dict[str, MethodSpec]:
    """:func:`resolve_methods` of ``names`` plus, recursively, the bundled
    methods their staged methods start from; by name.

    Raises:
        KeyError: a name or a ``start_from`` is not a method.
    """
    out = {s.name: s for s in resolve_methods(list(dict.fromkeys(names)))}
    todo = [s.start_from for s in out.values() if s.start_from]
    bundled = available_methods() if todo else {}
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in bundled:
            users = [s.path for s in out.values() if s.start_from == name]
            raise KeyError(f'{users}: `start_from={name!r}` is not a bundled method; '
                           f'choose from {list(bundled)}')
        out[name] = bundled[name]
        if bundled[name].start_from:
            todo.append(bundled[name].start_from)
    return out


#: label of every bundled method, in table order
METHODS: Dict[str, str] = {n: s.label for n, s in available_methods().items()}
#: methods run when ``--methods`` is not given
DEFAULT_METHODS: List[str] = [n for n, s in available_methods().items() if s.default]


def head_overrides(method: str) -> dict:
    """Decode-head settings of a bundled method (merged into the config's
    head).

    Raises:
        KeyError: unknown method.
    """
    return dict(resolve_methods([method])[0].head)
