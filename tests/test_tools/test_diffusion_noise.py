"""tools/analysis_tools/diffusion_noise.py: the size of the diffusion noise
beside the size of the correction, on a tiny model, against independent
computations."""
import copy
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from test_analysis_tools import load_tool  # tests/test_tools is on sys.path

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The tool, the tiny config (its data in a temporary folder) and the
    first 4 validation images as dataloader batches."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import mmdmtl  # noqa: F401
    tool = load_tool('analysis_tools/diffusion_noise.py')
    root = str(tmp_path_factory.mktemp('data'))
    cfg = Config.fromfile(TINY)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    init_default_scope('mmseg')
    loader = Runner.build_dataloader(copy.deepcopy(cfg.val_dataloader))
    return tool, cfg, root, tool.first_batches(loader, 4)


def _model(cfg, seed=0, **head):
    from mmdmtl.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.decode_head.update(head)
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model.eval()


def _perturb_final_heads(model, scale=0.05):
    """Non-zero correction heads (they start at zero in the residual and
    anchored modes), drawn with a fixed seed."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.decode_head.final_heads.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)


def test_first_batches_cuts_the_last_batch(setup):
    tool, _, _, batches = setup
    assert [len(b['inputs']) for b in batches] == [2, 2]
    assert [len(b['inputs']) for b in tool.first_batches(batches, 3)] == [2, 1]
    assert [len(b['data_samples']) for b in tool.first_batches(batches, 3)] == [2, 1]


def head_cfg(cfg, key):
    return cfg.model.decode_head.get(key, {'beta_start': 1e-3, 'beta_end': 1e-2}[key])


def test_report_equals_an_independent_computation(setup):
    tool, cfg, _, batches = setup
    model = _model(cfg)
    _perturb_final_heads(model)
    head = model.decode_head
    report = tool.noise_report(model, batches, draws=2)
    assert head.test_noise == 'random'  # restored
    # the start noise from the schedule's definition (linear in sqrt(beta))
    betas = np.linspace(math.sqrt(head_cfg(cfg, 'beta_start')),
                        math.sqrt(head_cfg(cfg, 'beta_end')), head.num_timesteps) ** 2
    abar = float(np.prod(1.0 - betas))
    noise = math.sqrt(1.0 - abar)
    # the other values from whole tensors, not running sums
    x0s, corr, eff = {}, {}, {}
    with torch.no_grad():
        for b, data in enumerate(batches):
            feats = model.extract_feat(model.data_preprocessor(data, False)['inputs'])
            _, preds = head.preliminary(feats)
            head.test_noise = 'none'
            clean = head(feats)['final']
            head.test_noise = 'random'
            for t in head.task_names:
                x0 = head.to_chain_space(t, preds[t])
                x0s.setdefault(t, []).append(x0.flatten())
                corr.setdefault(t, []).append((clean[t] - x0).flatten())
            for d in range(2):
                torch.manual_seed(b * 2 + d)
                noisy = head(feats)['final']
                for t in head.task_names:
                    eff.setdefault(t, []).append((noisy[t] - clean[t]).flatten())
    assert sorted(report) == sorted(head.task_names)
    for t in head.task_names:
        row = report[t]
        spread = torch.cat(x0s[t]).double().std(unbiased=False).item()
        rms_corr = torch.cat(corr[t]).double().pow(2).mean().sqrt().item()
        rms_eff = torch.cat(eff[t]).double().pow(2).mean().sqrt().item()
        assert row['start_noise'] == pytest.approx(noise, rel=1e-6)
        assert row['start_spread'] == pytest.approx(spread, rel=1e-6)
        assert row['correction'] == pytest.approx(rms_corr, rel=1e-6)
        assert row['noise_effect'] == pytest.approx(rms_eff, rel=1e-6)
        assert row['noise_to_signal'] == pytest.approx(noise / (math.sqrt(abar) * spread),
                                                       rel=1e-6)
        assert row['effect_to_correction'] == pytest.approx(rms_eff / rms_corr, rel=1e-6)
        assert rms_eff > 0 and rms_corr > 0


def test_noise_effect_follows_the_noise(setup):
    """A chain whose output cannot see the noise (anchored, zero correction
    heads) shows none. A chain that passes its state on unchanged (residual,
    zero correction heads, T = 2) is linear in the start map and the noise:
    its correction and noise effect follow from the schedule alone."""
    tool, cfg, _, batches = setup
    blind = tool.noise_report(_model(cfg, refine_mode='anchored'), batches, draws=1)
    for row in blind.values():
        assert row['noise_effect'] == 0.0 and row['correction'] == 0.0
        assert math.isnan(row['effect_to_correction']) and row['start_noise'] > 0
    for beta_end in (1e-2, 0.3):
        model = _model(cfg, refine_mode='residual', beta_end=beta_end)
        head = model.decode_head
        assert head.num_timesteps == 2 and head.variant == 'prediction'
        report = tool.noise_report(model, batches, draws=4)
        # x_1 = a x0 + s eps; x_0 = (c1 + c2) x_1 + sigma z (posterior at t = 1) is the output;
        # without noise x_1 = x0. So correction = (c1 + c2 - 1) x0 and
        # E[effect^2] = (c1 + c2)^2 ((a - 1)^2 E[x0^2] + s^2) + sigma^2.
        betas = np.linspace(math.sqrt(head_cfg(cfg, 'beta_start')), math.sqrt(beta_end), 2) ** 2
        abar = np.cumprod(1.0 - betas)
        a, s = math.sqrt(abar[1]), math.sqrt(1.0 - abar[1])
        c1 = betas[1] * math.sqrt(abar[0]) / (1.0 - abar[1])
        c2 = (1.0 - abar[0]) * math.sqrt(1.0 - betas[1]) / (1.0 - abar[1])
        sigma2 = betas[1] * (1.0 - abar[0]) / (1.0 - abar[1])
        with torch.no_grad():
            ms = {t: [] for t in head.task_names}
            for data in batches:
                feats = model.extract_feat(model.data_preprocessor(data, False)['inputs'])
                _, preds = head.preliminary(feats)
                for t in head.task_names:
                    ms[t].append(head.to_chain_space(t, preds[t]).double().pow(2).flatten())
        for t, row in report.items():
            x0_ms = torch.cat(ms[t]).mean().item()
            assert row['correction'] == pytest.approx(abs(c1 + c2 - 1) * math.sqrt(x0_ms),
                                                      rel=1e-4, abs=1e-6)
            effect = math.sqrt((c1 + c2) ** 2 * ((a - 1) ** 2 * x0_ms + s ** 2) + sigma2)
            assert row['noise_effect'] == pytest.approx(effect, rel=0.05)


def test_heads_without_noise_are_refused(setup):
    tool, cfg, _, batches = setup
    with pytest.raises(ValueError, match='use_diffusion=False'):
        tool.noise_report(_model(cfg, use_diffusion=False), batches, draws=1)
    with pytest.raises(ValueError, match='draws must be at least 1'):
        tool.noise_report(_model(cfg), batches, draws=0)
    from mmdmtl.registry import MODELS
    baseline = osp.join(ROOT, 'configs', '_base_', 'models', 'mtl_baseline_r18.py')
    from mmengine.config import Config
    model = MODELS.build(Config.fromfile(baseline).model)
    with pytest.raises(TypeError, match='MTLBaselineHead, not a DiffusionMTLHead'):
        tool.noise_report(model, batches, draws=1)


def test_command_line_writes_the_report_of_the_checkpoint(setup, tmp_path, capsys):
    tool, cfg, root, batches = setup
    model = _model(cfg, seed=3)
    _perturb_final_heads(model)
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), str(ckpt))
    out = tmp_path / 'out'
    tool.main([TINY, str(ckpt), '--num-images', '4', '--draws', '2', '--split', 'val',
               '--out', str(out), '--cfg-options', f'val_dataloader.dataset.data_root={root}'])
    saved = json.loads((out / 'diffusion_noise.json').read_text())
    expected = tool.noise_report(model, batches, draws=2)
    assert saved['num_images'] == 4 and saved['split'] == 'val'
    for t, row in expected.items():
        for key, value in row.items():
            assert saved['tasks'][t][key] == pytest.approx(value, rel=1e-6)
    md = (out / 'diffusion_noise.md').read_text()
    assert capsys.readouterr().out.endswith(md)
    assert sorted(line.split(' | ')[0][2:] for line in md.splitlines()[4:]) == sorted(expected)
    with pytest.raises(SystemExit) as e:
        tool.main([TINY, str(tmp_path / 'none.pth')])
    assert e.value.code == 2
