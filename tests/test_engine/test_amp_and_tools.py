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
