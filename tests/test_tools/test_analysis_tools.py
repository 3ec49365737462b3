"""tools/analysis_tools/* and tools/misc/print_config.py, run as a user would
(their ``main(argv)``), with checks on the values they produce."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LITE = osp.join(ROOT, 'configs', 'diffusionmtl',
                'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')


def load_tool(rel: str):
    path = osp.join(ROOT, 'tools', rel)
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(rel))[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_print_config_merges_options_and_saves(tmp_path, capsys):
    tool = load_tool('misc/print_config.py')
    out = tmp_path / 'merged.py'
    cfg = tool.main([LITE, '--cfg-options', 'model.decode_head.num_timesteps=3',
                     '--save-path', str(out)])
    assert cfg.model.decode_head.num_timesteps == 3
    assert cfg.model.decode_head.preset == 'lite'          # from the config itself
    assert cfg.train_dataloader.dataset.type == 'SyntheticIndoorDataset'  # from a _base_
    text = capsys.readouterr().out
    assert 'num_timesteps=3' in text
    from mmengine.config import Config
    assert Config.fromfile(str(out)).model.decode_head.num_timesteps == 3
    with pytest.raises(SystemExit, match='does not exist'):
        tool.main([str(tmp_path / 'nope.py')])


def test_get_flops_components_and_scaling():
    tool = load_tool('analysis_tools/get_flops.py')
    from mmengine.config import Config
    small = tool.count(Config.fromfile(LITE), 64, 96)
    big = tool.count(Config.fromfile(LITE), 128, 96)
    total = small['total']
    parts = [k for k in small if k != 'total']
    assert {'backbone', 'decode_head.denoiser', 'decode_head.prelim_decoders'} <= set(parts)
    assert total['macs'] > 0
    assert sum(small[k]['macs'] for k in parts) <= total['macs'] * 1.0001
    assert sum(small[k]['params'] for k in parts) <= total['params']
    # convolution-dominated: twice the pixels, about twice the MACs
    assert big['total']['macs'] / total['macs'] == pytest.approx(2.0, rel=0.1)
    assert big['total']['params'] == total['params']


def _write_scalars(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(json.dumps(x) for x in lines) + '\n')


def test_analyze_logs_plots_initial_final_and_delta_m(tmp_path):
    tool = load_tool('analysis_tools/analyze_logs.py')
    run = tmp_path / 'run'
    recs = [dict(step=i, **{'decode.loss_semseg': 2.0 / i, 'decode.loss_semseg_init': 2.2 / i,
                            'decode.loss_depth': 1.0 / i, 'lr': 1e-3}) for i in range(1, 6)]
    recs.append({'step': 5, 'mtl/delta_m': -3.5})
    _write_scalars(run / '20260101_000000' / 'vis_data' / 'scalars.json', recs)
    series = tool.load_scalars(tool.find_scalars(str(run)))
    losses = tool.task_losses(series)
    assert losses['semseg']['initial'][0] == (1, 2.2)
    assert losses['semseg']['final'][-1] == (5, 0.4)
    assert 'initial' not in losses['depth']
    out = tmp_path / 'curves.png'
    panels = tool.main([str(run), '--out', str(out), '--keys', 'lr'])
    assert panels == ['loss: depth', 'loss: semseg', 'mtl/delta_m', 'lr']
    assert out.stat().st_size > 1000


def test_analyze_logs_summary_of_final_against_initial_loss(tmp_path, capsys):
    """Means from the given step on, the initial loss divided by its weight;
    a task without an initial loss is left out; no such task at all fails."""
    tool = load_tool('analysis_tools/analyze_logs.py')
    recs = [dict(step=i, **{'decode.loss_depth': 0.3 if i > 2 else 9.0,
                            'decode.loss_depth_init': 0.2 if i > 2 else 1.0,
                            'decode.loss_semseg': 1.0}) for i in range(1, 5)]
    series = {k: [(r['step'], r[k]) for r in recs] for k in recs[0] if k != 'step'}
    assert tool.loss_summary(series, 3, initial_weight=0.5) == {
        'depth': pytest.approx((0.3, 0.4, 0.75))}
    with pytest.raises(ValueError, match='from step 9 on'):
        tool.loss_summary(series, 9)
    run = tmp_path / 'run'
    _write_scalars(run / '20260101_000000' / 'vis_data' / 'scalars.json', recs)
    tool.main([str(run), '--out', str(tmp_path / 'c.png'), '--summary-from', '3',
               '--initial-loss-weight', '0.5', '--legend', 'sw'])
    assert '| sw | depth | 0.3000 | 0.4000 | 0.7500 |' in capsys.readouterr().out


def test_refinement_output_choice_follows_each_metric_direction():
    """Refined kept where it is not worse (higher mIoU, lower absErr, ties
    kept), the initial map elsewhere."""
    choose = load_tool('analyze_refinement.py').choose_outputs
    better = {'final': {'semseg/mIoU': 20.0, 'depth/absErr': 0.60},
              'initial': {'semseg/mIoU': 19.0, 'depth/absErr': 0.62}}
    worse = {'final': {'semseg/mIoU': 22.0, 'depth/absErr': 0.66},
             'initial': {'semseg/mIoU': 22.5, 'depth/absErr': 0.65}}
    assert choose(better, ['semseg', 'depth']) == dict(semseg='final', depth='final')
    assert choose(worse, ['semseg', 'depth']) == dict(semseg='initial', depth='initial')
    tie = {'final': {'depth/absErr': 0.5}, 'initial': {'depth/absErr': 0.5}}
    assert choose(tie, ['depth']) == dict(depth='final')


def test_refinement_split_swaps_in_the_validation_loop():
    from mmengine.config import Config
    use_split = load_tool('analyze_refinement.py').use_split
    cfg = Config(dict(val_dataloader=dict(dataset=dict(seed=0)), val_evaluator=dict(type='V'),
                      test_dataloader=dict(dataset=dict(seed=2)), test_evaluator=dict(type='T')))
    assert use_split(cfg, 'test', 'c.py') is cfg
    val = use_split(cfg, 'val', 'c.py')
    assert val.test_dataloader.dataset.seed == 0 and val.test_evaluator.type == 'V'
    assert cfg.test_dataloader.dataset.seed == 2  # the given config is left as it was
    with pytest.raises(SystemExit, match=r'c\.py: --split val needs val_evaluator'):
        use_split(Config(dict(val_dataloader=dict(dataset=dict()))), 'val', 'c.py')


def test_refinement_disc_split_reaches_every_depth_and_normal_metric():
    from mmengine.config import Config
    tool = load_tool('analyze_refinement.py')
    cfg = Config(dict(
        val_evaluator=[dict(type='MTLDepthMetric'), dict(type='MTLIoUMetric')],
        test_evaluator=dict(type='MultiTaskMetric', task_metrics=[
            dict(type='SurfaceNormalMetric'), dict(type='MTLDepthMetric', min_depth=0.1)])))
    out = tool.with_disc_split(cfg, 2)
    assert out.val_evaluator[0].disc_width == 2 and 'disc_width' not in out.val_evaluator[1]
    assert [m.disc_width for m in out.test_evaluator.task_metrics] == [2, 2]
    assert out.test_evaluator.task_metrics[1].min_depth == 0.1
    assert 'disc_width' not in cfg.test_evaluator.task_metrics[0]  # a copy
    no_split = Config(dict(val_evaluator=dict(type='MTLDepthMetric'),
                           test_evaluator=dict(type='MTLIoUMetric')))
    with pytest.raises(SystemExit, match='test_evaluator has no MTLDepthMetric or '
                       'SurfaceNormalMetric'):
        tool.with_disc_split(no_split, 1)
    assert tool.with_disc_split(no_split, 1, 'val_evaluator').val_evaluator.disc_width == 1


def test_refinement_disc_table_changes_from_initial():
    table = load_tool('analyze_refinement.py').disc_table
    res = {m: {'depth/absErr_at_disc': a, 'depth/absErr_off_disc': b, 'depth/disc_pct': 40.0}
           for m, a, b in (('final', 0.5, 0.3), ('initial', 0.75, 0.25))}
    lines = table(res)
    assert '(share of the valid pixels at them: depth 40.0 %)' in lines[1]
    assert lines[3] == '| predictions | depth at disc. | depth off disc. |'
    assert lines[5] == '| final | 0.5000 (-0.2500) | 0.3000 (+0.0500) |'
    assert lines[6] == '| initial | 0.7500 | 0.2500 |'
    assert table({'initial': {'depth/absErr': 0.5}}) == []


def test_analyze_logs_errors_name_the_file(tmp_path):
    tool = load_tool('analysis_tools/analyze_logs.py')
    with pytest.raises(FileNotFoundError, match='no .*scalars.json under'):
        tool.find_scalars(str(tmp_path))
    bad = tmp_path / 'scalars.json'
    bad.write_text('{"step": 1, "decode.loss_semseg": 1}\n{not json\n')
    with pytest.raises(ValueError, match=r'scalars.json line 2'):
        tool.load_scalars(str(bad))


@pytest.mark.parametrize('split_mode', ['onelabel', None])
def test_browse_dataset_draws_targets_and_counts_labels(tmp_path, split_mode, capsys):
    tool = load_tool('analysis_tools/browse_dataset.py')
    data = tmp_path / 'data'
    out = tmp_path / 'browse'
    opts = [f'train_dataloader.dataset.data_root={data}',
            'train_dataloader.dataset.num_train=6', 'train_dataloader.dataset.num_val=2',
            f'train_dataloader.dataset.split_mode={split_mode}']
    summary = tool.main([LITE, '--output-dir', str(out), '--num', '6', '--cfg-options'] + opts)
    pngs = sorted(out.glob('*.png'))
    assert len(pngs) == 6
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdmtl.registry import DATASETS
    cfg = Config.fromfile(LITE)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': str(data),
                         'train_dataloader.dataset.num_train': 6,
                         'train_dataloader.dataset.num_val': 2,
                         'train_dataloader.dataset.split_mode': split_mode})
    init_default_scope('mmseg')
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    expected = ds.task_mask_array()[:6].sum(0)
    assert [summary[t] for t in ds.tasks] == expected.tolist()
    if split_mode == 'onelabel':
        assert sum(summary.values()) == 6          # exactly one task per sample
    else:
        assert all(v == 6 for v in summary.values())
    import cv2
    img = cv2.imread(str(pngs[0]))
    assert img is not None and img.shape[0] > img.shape[1]   # one row per task
    assert 'labelled per task' in capsys.readouterr().out


def test_benchmark_ours_only_and_loop_identity(tmp_path):
    tool = load_tool('analysis_tools/benchmark.py')
    out = tmp_path / 'bench.json'
    res = tool.main(['--config', LITE, '--batch-size', '2', '--height', '32', '--width', '48',
                     '--steps', '2', '--warmup', '0', '--loop', '--labels', 'random',
                     '--threads', '1', '--json', str(out)])
    assert set(res['times']) == {'mmdmtl', 'mmdmtl, per-sample loop'}
    for times in res['times'].values():
        assert len(times['train']) == 2 and len(times['infer']) == 2
        assert all(t > 0 for t in times['train'] + times['infer'])
    assert res['loop_max_abs_diff'] < 1e-4
    assert res['params']['mmdmtl'] > 1e6 and res['gmacs_per_image'] > 0
    assert json.loads(out.read_text())['batch'] == 2


def test_benchmark_channels_last_contender_identical_outputs():
    tool = load_tool('analysis_tools/benchmark.py')
    res = tool.main(['--config', LITE, '--batch-size', '2', '--height', '32', '--width', '48',
                     '--steps', '1', '--warmup', '0', '--compare-channels-last',
                     '--threads', '1', '--no-macs'])
    assert set(res['times']) == {'mmdmtl', 'mmdmtl, channels_last'}
    assert len(res['times']['mmdmtl, channels_last']['train']) == 1
    # the same maths: outputs equal within fp32 tolerance, but not trivially
    # the same object (a real second model in another memory format)
    assert 0.0 <= res['channels_last_max_abs_diff'] < 1e-4


def test_benchmark_official_path_must_be_a_checkout(tmp_path):
    tool = load_tool('analysis_tools/benchmark.py')
    with pytest.raises(FileNotFoundError, match='not a checkout of the official'):
        tool.main(['--config', LITE, '--batch-size', '1', '--height', '32', '--width', '48',
                   '--steps', '1', '--no-macs', '--official', str(tmp_path)])


def test_timm_standin_layers():
    mod = load_tool('analysis_tools/timm_layers_standin.py')
    import torch
    mlp = mod.Mlp(8, 16)
    x = torch.randn(2, 5, 8)
    ref = mlp.fc2(torch.nn.functional.gelu(mlp.fc1(x)))
    torch.testing.assert_close(mlp(x), ref)
    dp = mod.DropPath(0.5).train()
    torch.manual_seed(0)
    y = dp(torch.ones(1000, 4))
    rows = y[:, 0]
    assert set(np.unique(rows.numpy()).tolist()) <= {0.0, 2.0}
    assert 0.4 < (rows == 0).float().mean().item() < 0.6
    assert torch.equal(dp.eval()(x), x)


def test_benchmark_baseline_head_inference_only():
    """The MTL baseline head benchmarks too (no diffusion options), so users
    see what the diffusion stage costs on top of it."""
    tool = load_tool('analysis_tools/benchmark.py')
    cfg = osp.join(ROOT, 'configs', '_base_', 'models', 'mtl_baseline_r18.py')
    res = tool.main(['--config', cfg, '--preset', 'lite', '--batch-size', '2', '--height', '32',
                     '--width', '48', '--steps', '1', '--warmup', '0', '--mode', 'infer',
                     '--deterministic', '--threads', '1'])
    assert res['head'] == 'MTLBaselineHead' and res['variant'] is None
    assert len(res['times']['mmdmtl']['infer']) == 1 and not res['times']['mmdmtl']['train']
