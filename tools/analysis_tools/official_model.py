"""Build the *official* DiffusionMTL model from a user's checkout, for the
side-by-side speed comparison in ``benchmark.py``.

Nothing of the official code is part of mmdmtl: the user passes the path of
their own checkout of github.com/prismformore/DiffusionMTL and this module
imports it from there. It needs that code's own dependencies (``easydict``,
``einops``, ``timm``). Where ``timm`` cannot be imported (its import pulls in
torchvision, which does not load beside every torch build), the few
generic layers the official denoiser imports from ``timm.models.layers`` are
provided by :mod:`timm_layers_standin`, written for mmdmtl.

The official code supports PASCAL-Context only; the NYUD task set is built
through its own ``parse_task_dictionary('NYUD', ...)`` (13 classes, depth,
normals) with the loss weights of the paper setting (semseg 1, depth 1,
normals 10), ResNet-18 without pretrained weights, and the requested number
of diffusion steps.
"""
import importlib
import os.path as osp
import sys
import types
from typing import Dict, List, Sequence

import torch
from torch import Tensor

#: Top-level module names of the official repository; purged from
#: ``sys.modules`` before importing so that nothing else shadows them.
OFFICIAL_TOP_LEVEL = ('configs', 'data', 'evaluation', 'losses', 'models', 'utils')

#: mmdmtl task name -> the official code's task name.
TASK_NAMES = {'semseg': 'semseg', 'depth': 'depth', 'normal': 'normals',
              'edge': 'edge', 'saliency': 'sal', 'human_parts': 'human_parts'}
LOSS_WEIGHTS = {'semseg': 1.0, 'depth': 1.0, 'normals': 10.0, 'edge': 50.0, 'sal': 5.0,
                'human_parts': 2.0}


def _ensure_timm_layers() -> None:
    """Make ``timm.models.layers`` importable (the real one, else a stand-in)."""
    try:
        importlib.import_module('timm.models.layers')
        return
    except Exception:  # noqa: BLE001  any failure of timm's import chain
        for name in [m for m in sys.modules if m == 'timm' or m.startswith('timm.')]:
            del sys.modules[name]
    here = osp.dirname(osp.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    standin = importlib.import_module('timm_layers_standin')
    timm = types.ModuleType('timm')
    models = types.ModuleType('timm.models')
    timm.models = models
    models.layers = standin
    sys.modules.update({'timm': timm, 'timm.models': models, 'timm.models.layers': standin})


def _import_official(path: str):
    path = osp.abspath(osp.expanduser(path))
    if not osp.isfile(osp.join(path, 'models', 'diffusion_net.py')):
        raise FileNotFoundError(
            f'{path} is not a checkout of the official DiffusionMTL code: '
            'models/diffusion_net.py is missing (git clone '
            'https://github.com/prismformore/DiffusionMTL)')
    for name in list(sys.modules):
        if name.split('.')[0] in OFFICIAL_TOP_LEVEL:
            del sys.modules[name]
    sys.path.insert(0, path)
    _ensure_timm_layers()
    try:
        from easydict import EasyDict  # noqa: F401
    except ImportError as e:
        raise ImportError('the official code needs easydict: pip install easydict') from e
    common = importlib.import_module('utils.common_config')
    config = importlib.import_module('utils.config')
    schemes = importlib.import_module('losses.loss_schemes')
    return common, config, schemes


class OfficialDiffusionMTL:
    """The official model, its loss and a batch converter.

    Args:
        path: Checkout of the official repository.
        tasks: ``{mmdmtl task name: channels}`` (NYUD: semseg, depth, normal).
        height, width: Input size.
        num_timesteps: Diffusion steps.
    """

    def __init__(self, path: str, tasks: Dict[str, int], height: int, width: int,
                 num_timesteps: int) -> None:
        common, config, schemes = _import_official(path)
        from easydict import EasyDict as edict
        names = {t: TASK_NAMES[t] for t in tasks}
        flags = {f'include_{n}': True for n in names.values()}
        if 'edge' in names.values():
            flags['edge_w'] = 0.95
        db = 'NYUD' if set(names.values()) <= {'semseg', 'depth', 'normals', 'edge'} \
            else 'PASCALContext'
        task_cfg, extra = config.parse_task_dictionary(db, flags)
        for t, c in tasks.items():
            if task_cfg.NUM_OUTPUT[names[t]] != c:
                raise ValueError(f'official {db} {names[t]} has {task_cfg.NUM_OUTPUT[names[t]]} '
                                 f'outputs, mmdmtl config has {c}')
        p = edict(dict(setup='multi_task', model='DiffusionNet', backbone='resnet18',
                       backbone_kwargs=dict(pretrained=False), head='mlp',
                       train_db_name=db, ignore_index=255, num_timesteps=num_timesteps,
                       ssl_type='onelabel'))
        p.update(extra)
        p.TASKS = task_cfg
        p.ALL_TASKS = edict(NAMES=list(task_cfg.NAMES))
        p.TRAIN = edict(SCALE=(height, width))
        p.TEST = edict(SCALE=(height, width))
        self.p = p
        self.task_names = list(task_cfg.NAMES)     # official order
        self.ours_of = {v: k for k, v in names.items()}
        self.model = common.get_model(p)
        loss_ft = torch.nn.ModuleDict({t: common.get_loss(p, t) for t in self.task_names})
        # The official loss reads the split file from a path relative to the
        # working directory in __init__; build it without that and give it
        # the benchmark batch's labels instead.
        crit = schemes.SemiSupervisedMultiTaskLoss.__new__(schemes.SemiSupervisedMultiTaskLoss)
        torch.nn.Module.__init__(crit)
        crit.p, crit.tasks, crit.loss_ft = p, self.task_names, loss_ft
        crit.loss_weights = {t: LOSS_WEIGHTS[t] for t in self.task_names}
        crit.inter_loss_weight = 0.5
        crit.labels_weights = {}
        self.criterion = crit

    def to(self, device) -> 'OfficialDiffusionMTL':
        self.model.to(device)
        self.criterion.to(device)
        return self

    def make_batch(self, inputs: Tensor, targets: Dict[str, Tensor],
                   labelled: Sequence[Sequence[str]]) -> dict:
        """Official batch dict from mmdmtl-style targets.

        Args:
            inputs: (B, 3, H, W) images.
            targets: ``{mmdmtl task: (B, C, H, W)}`` with 255 where invalid.
            labelled: Per sample, the mmdmtl task names it is labelled for.
        """
        b = inputs.shape[0]
        batch = {'image': inputs, 'meta': {'img_name': [f'img{i}' for i in range(b)]}}
        weights: List[List[int]] = []
        for i in range(b):
            weights.append([int(self.ours_of[t] in labelled[i]) for t in self.task_names])
            self.criterion.labels_weights[f'img{i}'] = weights[-1]
        batch['task_w'] = torch.tensor(weights)
        for t in self.task_names:
            batch[t] = targets[self.ours_of[t]]
        return batch

    def loss(self, batch: dict) -> Tensor:
        out = self.model(batch)
        return self.criterion(out, batch, tasks=self.task_names)['total']

    def predict(self, batch: dict) -> dict:
        return self.model(batch)['preds']
