"""--amp on CPU and the checkpoint conversion tool."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

from mmdmtl.engine.amp import CPUAmpOptimWrapper, enable_amp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_enable_amp_on_cpu_selects_bf16_wrapper():
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper',
                                         optimizer=dict(type='SGD', lr=0.1))))
    enable_amp(cfg)
    expected = 'AmpOptimWrapper' if torch.cuda.is_available() else 'CPUAmpOptimWrapper'
    assert cfg.optim_wrapper.type == expected


def test_enable_amp_rejects_unknown_wrapper():
    cfg = Config(dict(optim_wrapper=dict(type='MyWrapper')))
    with pytest.raises(ValueError, match='MyWrapper'):
        enable_amp(cfg)


def test_cpu_amp_wrapper_runs_forward_in_bf16():
    model = torch.nn.Linear(4, 2)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    with pytest.raises(ValueError, match='bfloat16'):
        CPUAmpOptimWrapper(dtype='float16',
                           optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_convert_checkpoint_tool(tmp_path):
    hub = MessageHub.get_instance('convert_probe')
    hub.update_scalar('train/loss', 1.0)
    src, dst = str(tmp_path / 'plain.pth'), str(tmp_path / 'safe.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict(),
                'meta': {'iter': 3}}, src)
    tool = osp.join(ROOT, 'tools', 'convert_checkpoint.py')
    # refuses without --trust
    r = subprocess.run([sys.executable, tool, src, dst], capture_output=True, text=True)
    assert r.returncode != 0 and '--trust' in r.stderr
    r = subprocess.run([sys.executable, tool, src, dst, '--trust'], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    out = torch.load(dst, weights_only=True)
    assert torch.equal(out['state_dict']['w'], torch.ones(2))
    assert out['meta']['iter'] == 3


def test_bf16_autocast_keeps_losses_and_schedule_in_fp32():
    """Under CPU bf16 autocast the network runs in bf16 but the diffusion
    schedule and every loss are fp32 and finite, and gradients flow."""
    import sys as _sys
    _sys.path.insert(0, osp.join(ROOT, 'tests', 'test_models'))
    from mtl_model_helpers import fake_feats, head_cfg, make_samples

    from mmdmtl.registry import MODELS
    for variant in ('feature', 'prediction'):
        head = MODELS.build(head_cfg(variant=variant))
        head.train()
        feats = fake_feats(2, 32, 48)
        samples = make_samples(2, 32, 48, ['semseg', 'depth', 'normal'],
                               labelled=[['semseg', 'depth'], ['normal']])
        seen = {}

        def hook(mod, args, out, seen=seen):
            seen['fusion'] = out.dtype if torch.is_tensor(out) else out[0].dtype

        first_conv = next(m for m in head.modules() if isinstance(m, torch.nn.Conv2d))
        first_conv.register_forward_hook(hook)
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
            losses = head.loss(feats, samples)
            x = head.scheduler.start_state(torch.ones(2, 2, dtype=torch.bfloat16),
                                           torch.zeros(2, 2, dtype=torch.bfloat16))
        assert seen['fusion'] == torch.bfloat16  # autocast really was active
        assert x.dtype == torch.float32
        assert torch.allclose(x, head.scheduler.sqrt_alphas_cumprod[-1].expand(2, 2))
        assert set(losses) >= {'loss_semseg', 'loss_depth', 'loss_normal'}
        for k, v in losses.items():
            assert v.dtype == torch.float32 and torch.isfinite(v), (variant, k, v)
        sum(losses.values()).backward()
        grads = [p.grad for p in head.final_heads.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)


def test_train_tool_amp_on_cpu(tmp_path):
    """tools/train.py --amp trains the tiny config on CPU (bf16) with finite
    losses and says which wrapper it uses."""
    import os
    tiny = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')
    root = str(tmp_path / 'synthetic')
    env = dict(os.environ, MPLBACKEND='Agg')
    r = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), tiny, '--amp',
         '--work-dir', str(tmp_path / 'w'), '--cfg-options', 'train_cfg.max_iters=2',
         'train_cfg.val_interval=2']
        + [f'{k}.dataset.data_root={root}' for k in
           ('train_dataloader', 'val_dataloader', 'test_dataloader')],
        capture_output=True, text=True, timeout=600, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert 'CPUAmpOptimWrapper' in out
    import re
    losses = [float(v) for v in re.findall(r' loss: ([0-9.naif+-]+)', out)]
    assert losses and all(v == v and abs(v) < 1e6 for v in losses), losses
