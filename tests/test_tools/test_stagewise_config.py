"""The shipped stage-wise refinement config, end to end on tiny data: the
first stage comes from a checkpoint and stays bit-identical; only the
refinement learns."""
import os
import os.path as osp
import subprocess
import sys

import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')
SHIPPED = osp.join(ROOT, 'configs', 'diffusionmtl',
                   'diffusionmtl_r18-lite-stagewise_1xb8-500_synthetic-96x128.py')
FIRST_STAGE = ('backbone.', 'decode_head.fusion.', 'decode_head.prelim_decoders.',
               'decode_head.prelim_heads.')


def _train(cfg_path, work, cwd):
    env = dict(os.environ, MPLBACKEND='Agg', OMP_NUM_THREADS='2')
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg_path,
                           '--work-dir', work], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def test_stagewise_config_freezes_the_first_stage_and_trains_the_refinement(tmp_path):
    data_root = str(tmp_path / 'synthetic')
    tiny = Config.fromfile(TINY)
    for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        tiny[k].dataset.data_root = data_root
    tiny.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    tiny.param_scheduler = [dict(type='ConstantLR', factor=1.0, begin=0, end=2, by_epoch=False)]
    first = str(tmp_path / 'first.py')
    tiny.dump(first)
    _train(first, str(tmp_path / 'first'), str(tmp_path))
    ckpt = str(tmp_path / 'first' / 'iter_2.pth')

    shipped = Config.fromfile(SHIPPED)
    assert shipped.load_from.endswith('mtl-baseline_r18-lite_1xb8-1k_synthetic-96x128.pth')
    stage = tiny.copy()
    stage.model.backbone.update(shipped.model.backbone)
    for key in ('refine_mode', 'freeze_initial', 'refine_scale', 'guide_level',
                'refine_loss_decode'):
        stage.model.decode_head[key] = shipped.model.decode_head[key]
    stage.load_from = ckpt
    second = str(tmp_path / 'second.py')
    stage.dump(second)
    log = _train(second, str(tmp_path / 'second'), str(tmp_path))
    assert 'Load checkpoint from' in log

    before, after = _state(ckpt), _state(str(tmp_path / 'second' / 'iter_2.pth'))
    frozen = [k for k in before if k.startswith(FIRST_STAGE)]
    assert len(frozen) > 100
    for k in frozen:   # weights and batch-norm statistics
        assert torch.equal(before[k], after[k]), f'{k} changed in stage-wise training'
    refinement = [k for k in after if k.startswith('decode_head.denoiser.')
                  and after[k].dtype.is_floating_point]
    changed = [k for k in refinement if k not in before or not torch.equal(before[k], after[k])]
    assert len(changed) > len(refinement) // 2, 'the refinement did not learn'
