"""The pretrained benchmark protocol (issue #12, item 4) on the embedded
synthetic dataset, mirroring the paper's set-up:

* **one shared backbone**, pretrained once by an MTL baseline with every
  label on a disjoint set of scenes (another generator seed,
  ``pretrain_seed=1``), saved as a backbone-only checkpoint
  (``backbone.*`` keys); every compared run starts from it through
  ``model.backbone.init_cfg=dict(type='Pretrained', prefix='backbone.',
  checkpoint=...)``, read by the project's safe checkpoint loader (as the
  paper's runs start from ImageNet weights);
* **the paper's NYUD optimiser and schedule scaled to the budget**: Adam,
  weight decay 1e-6, poly decay (power 0.9) to 0, gradient clipping at 10;
  the learning rate keeps the paper's summed learning rate
  (2e-5 × 40k iterations, ``schedule_40k_adam.py``) over ``iters``, at most
  1e-3 (:func:`scaled_lr`);
* **checkpoint choice on the validation split** (``save_best`` on
  ``mtl/delta_m`` against the config's nominal baselines, ``val_evals``
  evaluations per run) and **final numbers on a separate test split**: the
  validation images of another generation (``test_seed=2``, no training
  images), i.e. scenes disjoint from the training, validation and
  pretraining ones. The generator's safety rules hold: each seed is its own
  versioned generation folder beside the others, nothing is deleted.
"""
import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Sequence

#: the paper's NYUD learning rate and our paper-like NYUD schedule length
PAPER_LR = 2e-5
PAPER_ITERS = 40000
#: upper bound of the scaled learning rate (the lite schedule's AdamW lr)
MAX_LR = 1e-3
SYNTHETIC_TYPE = 'SyntheticIndoorDataset'


def scaled_lr(iters: int, paper_lr: float = PAPER_LR, paper_iters: int = PAPER_ITERS,
              max_lr: float = MAX_LR) -> float:
    """Adam learning rate of a ``iters``-iteration run: the paper's summed
    learning rate ``paper_lr × paper_iters`` spread over ``iters``, within
    ``[paper_lr, max_lr]`` (e.g. 1000 iterations: 8e-4)."""
    if iters <= 0:
        raise ValueError(f'iters must be positive, got {iters}')
    return float(min(max_lr, max(paper_lr, paper_lr * paper_iters / iters)))


def _synthetic(cfg, loader: str, where: str):
    ds = cfg[loader].dataset
    if ds.get('type') != SYNTHETIC_TYPE:
        raise ValueError(
            f'{where}: the pretrained protocol renders disjoint scene sets with the '
            f'synthetic generator, but {loader}.dataset is {ds.get("type")!r}, not '
            f'{SYNTHETIC_TYPE}; for a real dataset pass the backbone with '
            '--cfg-options model.backbone.init_cfg=... and its own test split')
    return ds


def set_scene_seed(cfg, seed: int, where: str = 'config') -> None:
    """Render every loader of ``cfg`` from the generation of ``seed``."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is not None:
            _synthetic(cfg, loader, where)['seed'] = int(seed)


@dataclass
class ProtocolSettings:
    """Run settings of the pretrained protocol (see the module docstring).

    Attributes:
        pretrained: Backbone-only checkpoint every run starts from.
        val_evals: Validations per run (checkpoint choice).
        test_seed: Generator seed of the test scenes.
        num_test: Test images (default: the config's ``num_val``).
        lr: Adam learning rate (default: :func:`scaled_lr`).
        save_best: Validation metric of the checkpoint choice (greater is
            better).
        log_points: Logged training iterations per run (learning curves).
    """
    pretrained: str
    val_evals: int = 5
    test_seed: int = 2
    num_test: Optional[int] = None
    lr: Optional[float] = None
    save_best: str = 'mtl/delta_m'
    log_points: int = 50

    def apply(self, cfg, iters: int, lr_iters: Optional[int] = None):
        """Return ``cfg`` (a run config of :func:`build_run_cfg`) set up for
        the protocol (modified in place): ``iters`` training iterations, the
        learning rate of ``lr_iters`` (default ``iters``) iterations."""
        from mmengine.config import ConfigDict
        val = _synthetic(cfg, 'val_dataloader', 'pretrained protocol')
        test = _synthetic(cfg, 'test_dataloader', 'pretrained protocol')
        if int(self.test_seed) in {int(cfg.train_dataloader.dataset.get('seed', 0)),
                                   int(val.get('seed', 0))}:
            raise ValueError(f'test_seed {self.test_seed} is the seed of the training '
                             'or validation scenes; the test scenes must be disjoint')
        test.update(seed=int(self.test_seed), num_train=0, subset='val',
                    num_val=int(self.num_test or val.get('num_val', 200)))
        cfg.model.backbone.init_cfg = ConfigDict(
            type='Pretrained', prefix='backbone.', checkpoint=osp.abspath(self.pretrained))
        optimizer = cfg.optim_wrapper.get('optimizer') or {}
        cfg.optim_wrapper.optimizer = ConfigDict(
            type='Adam', lr=self.lr or scaled_lr(lr_iters or iters), weight_decay=1e-6,
            **({'fused': optimizer['fused']} if 'fused' in optimizer else {}))
        cfg.optim_wrapper.clip_grad = ConfigDict(max_norm=10.0)
        if 'optimizer' in cfg:  # the base configs' top-level variable, kept in step
            cfg.optimizer = cfg.optim_wrapper.optimizer
        cfg.param_scheduler = [ConfigDict(type='PolyLR', eta_min=0.0, power=0.9,
                                          begin=0, end=iters, by_epoch=False)]
        interval = max(1, iters // max(1, int(self.val_evals)))
        cfg.train_cfg.val_interval = interval
        cfg.default_hooks.checkpoint = ConfigDict(
            type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1,
            save_best=self.save_best, rule='greater')
        cfg.default_hooks.logger.interval = max(1, iters // max(1, int(self.log_points)))
        cfg.experiment = ConfigDict(test_checkpoint='best')
        return cfg


def pretrain_run_dir(work_dir: str, iters: int, seed: int) -> str:
    """Folder of the shared pretraining run."""
    return osp.join(work_dir, 'pretrain', f'mtl_scenes-seed{seed}_{iters}it')


def extract_backbone(checkpoint: str, out: str, meta: Optional[dict] = None) -> str:
    """Save the ``backbone.*`` weights of ``checkpoint`` (keys kept, so that
    ``init_cfg=dict(type='Pretrained', prefix='backbone.')`` strips them) to
    ``out`` as ``{'state_dict': ..., 'meta': ...}``, written to a temporary
    name then renamed.

    Raises:
        KeyError: the checkpoint has no ``backbone.*`` weights.
    """
    import torch

    from mmdmtl.engine.checkpoint_io import safe_torch_load
    ckpt = safe_torch_load(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    backbone = {k: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        raise KeyError(f'{checkpoint}: no backbone.* weights (keys: '
                       f'{sorted(state)[:5]} ...)')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.{os.getpid()}.tmp'
    torch.save({'state_dict': backbone,
                'meta': dict(meta or {}, source=osp.abspath(checkpoint))}, tmp)
    os.replace(tmp, out)
    return out


def config_digest(config: str) -> str:
    """SHA-256 of a config as mmengine resolves it (``_base_`` files
    included): the same config read from another checkout or through
    another path has the same digest, an edited one another."""
    from mmengine.config import Config
    text = json.dumps(Config.fromfile(config).to_dict(), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _pretrained_with_other(old: dict, meta: dict) -> dict:
    """What differs between the ``meta`` of an existing backbone and the
    wanted one: the tasks, and the config by its digest (a backbone saved
    before digests were recorded: by the config's file name)."""
    diff = {'tasks': old.get('tasks')} if old.get('tasks') != meta['tasks'] else {}
    if 'config_digest' in old:
        if old['config_digest'] != meta['config_digest']:
            diff['config'] = f"{old.get('config')} (digest {old['config_digest'][:12]})"
    elif osp.basename(str(old.get('config'))) != osp.basename(meta['config']):
        diff['config'] = old.get('config')
    return diff


def pretrain_backbone(config: str, tasks: Sequence[str], iters: int, work_dir: str,
                      seed: int = 1, force: bool = False,
                      cfg_options: Optional[dict] = None) -> str:
    """Pretrain the shared backbone once and return its backbone-only
    checkpoint ``<run>/backbone.pth`` (reused when it exists, unless
    ``force``): the MTL baseline of ``config`` with every label of
    ``tasks`` on the scenes of generator seed ``seed``, ``iters`` iterations
    with the config's own schedule; training seed 0.

    The existing backbone is the same pretraining when its tasks and its
    config's ``config_digest`` match: the config may be read from another
    checkout or through another path.

    Raises:
        ValueError: the existing backbone was pretrained for other tasks or
            another config (its ``meta`` says which).
    """
    from .plan import build_run_cfg
    from .worker import LOG_PREFIX, execute_runs
    wd = pretrain_run_dir(work_dir, iters, seed)
    out = osp.join(wd, 'backbone.pth')
    meta = dict(iters=int(iters), scene_seed=int(seed), tasks=list(tasks),
                config=osp.abspath(config), config_digest=config_digest(config))
    if osp.isfile(out) and not force:
        from mmdmtl.engine.checkpoint_io import safe_torch_load
        old = safe_torch_load(out, map_location='cpu').get('meta', {})
        diff = _pretrained_with_other(old, meta)
        if diff:
            raise ValueError(
                f'{out} was pretrained with {diff}, not '
                f'{ {k: meta[k] for k in diff} }; use another --work-dir, or --force to '
                'pretrain again in its place (the runs that started from it then no longer '
                'match it)')
        print(f'{LOG_PREFIX} reusing the pretrained backbone {out}', flush=True)
        return out
    os.makedirs(wd, exist_ok=True)
    cfg = build_run_cfg(config, 'mtl', tasks, 'full', 0, iters, wd)
    set_scene_seed(cfg, seed, where='pretraining')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg_path = osp.join(wd, 'run_config.py')
    cfg.dump(cfg_path)
    print(f'{LOG_PREFIX} pretraining the shared backbone ({iters} iterations, '
          f'scenes of seed {seed}) in {wd}', flush=True)
    execute_runs([('pretrain', cfg_path, osp.join(wd, 'test_metrics.json'))], 1)
    ckpt = osp.join(wd, f'iter_{iters}.pth')
    return extract_backbone(ckpt, out, meta=meta)
