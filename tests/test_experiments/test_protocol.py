"""The pretrained benchmark protocol: scaled schedule, disjoint test scenes,
the shared backbone loaded by every run, best validation checkpoint, and a
tiny end-to-end run through tools/run_experiments.py."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from mmdmtl.experiments import ProtocolSettings, build_run_cfg, extract_backbone, scaled_lr

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'run_experiments.py')
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


def test_scaled_lr_keeps_the_paper_summed_lr_within_bounds():
    assert scaled_lr(1000) == pytest.approx(2e-5 * 40000 / 1000)
    assert scaled_lr(100) == pytest.approx(1e-3)  # capped
    assert scaled_lr(200000) == pytest.approx(2e-5)  # never below the paper's
    with pytest.raises(ValueError, match='positive'):
        scaled_lr(0)


def _cfg(tmp_path, tasks=('semseg', 'depth')):
    return build_run_cfg(TINY, 'mtl', list(tasks), 'full', 0, 100, str(tmp_path / 'wd'))


def test_protocol_settings_of_a_run(tmp_path):
    cfg = ProtocolSettings(pretrained='bb.pth', val_evals=4, num_test=5).apply(
        _cfg(tmp_path), 100)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-3)  # scaled_lr(100), capped
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-6
    assert cfg.optim_wrapper.clip_grad.max_norm == 10.0
    (sched,) = cfg.param_scheduler
    assert (sched.type, sched.power, sched.end, sched.eta_min) == ('PolyLR', 0.9, 100, 0.0)
    assert cfg.train_cfg.val_interval == 25
    hook = cfg.default_hooks.checkpoint
    assert hook.save_best == 'mtl/delta_m' and hook.rule == 'greater'
    assert cfg.experiment.test_checkpoint == 'best'
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', prefix='backbone.', checkpoint=osp.abspath('bb.pth'))
    test, val = cfg.test_dataloader.dataset, cfg.val_dataloader.dataset
    assert (test.seed, test.num_train, test.num_val, test.subset) == (2, 0, 5, 'val')
    assert val.seed == 0 and cfg.train_dataloader.dataset.seed == 0
    cfg = ProtocolSettings(pretrained='bb.pth', lr=3e-4).apply(_cfg(tmp_path), 100)
    assert cfg.optim_wrapper.optimizer.lr == 3e-4
    assert cfg.test_dataloader.dataset.num_val == 6  # the config's num_val


def test_protocol_refuses_overlapping_or_non_synthetic_test_scenes(tmp_path):
    with pytest.raises(ValueError, match='test_seed 0 .* disjoint'):
        ProtocolSettings(pretrained='bb.pth', test_seed=0).apply(_cfg(tmp_path), 10)
    cfg = _cfg(tmp_path)
    cfg.test_dataloader.dataset.type = 'NYUDv2MTANDataset'
    with pytest.raises(ValueError, match="test_dataloader.dataset is 'NYUDv2MTANDataset'"):
        ProtocolSettings(pretrained='bb.pth').apply(cfg, 10)


def test_every_run_starts_from_the_shared_backbone(tmp_path):
    from mmengine.registry import init_default_scope

    import mmdmtl.models  # noqa: F401
    from mmdmtl.registry import MODELS
    init_default_scope('mmseg')
    cfg = _cfg(tmp_path)
    source = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'full.pth')
    torch.save({'state_dict': source.state_dict(), 'meta': {}}, ckpt)
    backbone = extract_backbone(ckpt, str(tmp_path / 'pre' / 'backbone.pth'))
    saved = torch.load(backbone, weights_only=True)['state_dict']
    assert saved and all(k.startswith('backbone.') for k in saved)
    run = ProtocolSettings(pretrained=backbone).apply(_cfg(tmp_path), 10)
    model = MODELS.build(run.model)
    model.init_weights()
    for key, value in saved.items():
        assert torch.equal(model.state_dict()[key], value), key
    fresh = MODELS.build(_cfg(tmp_path).model)
    fresh.init_weights()
    assert not torch.equal(fresh.state_dict()['backbone.conv1.weight'],
                           saved['backbone.conv1.weight'])
    torch.save({'state_dict': {'decode_head.x': torch.zeros(1)}}, ckpt)
    with pytest.raises(KeyError, match='no backbone'):
        extract_backbone(ckpt, str(tmp_path / 'none.pth'))


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND='Agg')
    proc = subprocess.run([sys.executable, TOOL] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_protocol_end_to_end_through_the_cli(tmp_path):
    root = str(tmp_path / 'synthetic')
    opts = ['--config', TINY, '--tasks', 'semseg', 'depth', '--iters', '2', '--seeds', '0',
            '--jobs', '2', '--work-dir', str(tmp_path / 'work'), '--splits', 'onelabel',
            '--methods', 'mtl', '--protocol', 'pretrained', '--pretrain-iters', '2',
            '--num-test', '4', '--val-evals', '2', '--cfg-options'] + [
        f'{k}.dataset.data_root={root}'
        for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    log = _run(opts + ['--pretrain-only'], cwd=str(tmp_path))
    backbone = str(tmp_path / 'work' / 'pretrain' / 'mtl_scenes-seed1_2it' / 'backbone.pth')
    assert f'shared backbone: {osp.relpath(backbone, str(tmp_path))}' in log \
        or f'shared backbone: {backbone}' in log
    assert 'runs to do, 1 at a time' in log and 'onelabel' not in log
    out = str(tmp_path / 'out')
    log = _run(opts + ['--out', out], cwd=str(tmp_path))
    assert 'reusing the pretrained backbone' in log and '3 runs to do' in log
    # scenes: pretraining (seed 1), training/validation (seed 0), test (seed 2, 4 images)
    gens = sorted(osp.basename(p) for p in glob.glob(osp.join(root, 'gen-*')))
    assert gens == ['gen-v1_n0-4_48x64_seed2', 'gen-v1_n16-6_48x64_seed0',
                    'gen-v1_n16-6_48x64_seed1']
    for name in ('stl_semseg', 'stl_depth', 'mtl'):
        wd = tmp_path / 'work' / 'onelabel' / 'seed0' / name
        text = (wd / 'run.log').read_text()
        assert f'safe_local backend from path: {backbone}' in text, name
        assert 'best_mtl_delta_m_iter_' in text
        metrics = json.loads((wd / 'test_metrics.json').read_text())
        assert metrics['checkpoint_iter'] in (1.0, 2.0)
    res = json.load(open(osp.join(out, 'results.json')))
    assert set(res['runs']['onelabel']['0']) == {'stl', 'mtl'}
    md = open(osp.join(out, 'results.md')).read()
    assert 'pretrained protocol' in md and '| onelabel | MTL baseline |' in md
    assert osp.getsize(osp.join(out, 'learning_curves_onelabel.png')) > 1000
    curves = json.load(open(osp.join(out, 'learning_curves.json')))
    assert curves['onelabel']['mtl'][0]['step'] == [1, 2]
    assert 'runs to do' not in _run(opts + ['--out', out], cwd=str(tmp_path))


def test_protocol_script_runs_every_step_with_jobs_from_the_environment(tmp_path):
    script = osp.join(ROOT, 'tools', 'experiments', 'protocol.sh')
    env = dict(os.environ, DRY_RUN='1', JOBS='3', OUT=str(tmp_path / 'p'))
    proc = subprocess.run(['bash', script], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    steps = [line for line in proc.stdout.splitlines() if line.startswith('== ')]
    names = [line[3:].split(':')[0] for line in steps]
    assert names == ['pretrain', 'table3', 'stagewise', 'label_efficiency',
                     'refinement_pred_seed0', 'refinement_pred_seed1', 'refinement_pred_seed2',
                     'refinement_pred',
                     'refinement_feat_seed0', 'refinement_feat_seed1', 'refinement_feat_seed2',
                     'refinement_feat',
                     'refinement_stagewise_seed0', 'refinement_stagewise_seed1',
                     'refinement_stagewise_seed2', 'refinement_stagewise',
                     'all done in 0 min; results under ' + str(tmp_path / 'p')]
    stage = steps.pop(2)
    assert '--splits onelabel randomlabels --methods mtl stagewise mtl_finetune' in stage
    assert f'--out {tmp_path / "p"}/stagewise' in stage and '--protocol pretrained' in stage
    assert '/onelabel/seed1/stagewise/' in steps[12]
    for line in steps[:3]:
        assert '--protocol pretrained' in line and '--jobs 3' in line
        assert f'--work-dir {tmp_path / "p"}/runs' in line
    assert '--pretrain-only' in steps[0]
    assert '--splits onelabel randomlabels --methods stl mtl pred feat no_cond no_diff' in steps[1]
    assert '--label-fractions 5 10 25 50 100 --methods mtl pred feat' in steps[2]
    assert 'tools/analyze_refinement.py' in steps[3] and '/onelabel/seed0/pred/' in steps[3]
    assert '/onelabel/seed2/pred/' in steps[5] and f'--out {tmp_path / "p"}/refinement_pred/seed2' \
        in steps[5]
    assert ('--summarize ' + ' '.join(f'{tmp_path / "p"}/refinement_pred/seed{s}' for s in range(3))
            + f' --out {tmp_path / "p"}/refinement_pred') in steps[6]


def test_pretrained_backbone_is_reused_only_for_the_same_tasks_and_config(tmp_path, capsys):
    from mmdmtl.experiments.protocol import config_digest, pretrain_backbone, pretrain_run_dir
    wd = pretrain_run_dir(str(tmp_path), 2, 1)
    os.makedirs(wd)
    path = osp.join(wd, 'backbone.pth')
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)},
                'meta': dict(tasks=['semseg', 'depth'], config=osp.abspath(TINY),
                             config_digest=config_digest(TINY))}, path)
    assert pretrain_backbone(TINY, ['semseg', 'depth'], 2, str(tmp_path)) == path
    assert 'reusing the pretrained backbone' in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"pretrained with \{'tasks': \['semseg', 'depth'\]\}"):
        pretrain_backbone(TINY, ['semseg'], 2, str(tmp_path))
    # the same config in another checkout is the same pretraining
    other = tmp_path / 'checkout'
    shutil.copytree(osp.join(ROOT, 'configs'), other / 'configs')
    (other / 'tests' / 'data' / 'configs').mkdir(parents=True)
    same = str(other / 'tests' / 'data' / 'configs' / osp.basename(TINY))
    shutil.copy(TINY, same)
    assert pretrain_backbone(same, ['semseg', 'depth'], 2, str(tmp_path)) == path
    # an edited config is not
    edited = tmp_path / osp.basename(TINY)
    edited.write_text(f"_base_ = ['{osp.abspath(TINY)}']\nrandomness = dict(seed=123)\n")
    edit = r"pretrained with \{'config': '.*\(digest [0-9a-f]{12}\)'"
    with pytest.raises(ValueError, match=edit):
        pretrain_backbone(str(edited), ['semseg', 'depth'], 2, str(tmp_path))


def test_a_backbone_saved_before_config_digests_is_checked_by_file_name(tmp_path):
    from mmdmtl.experiments.protocol import pretrain_backbone, pretrain_run_dir
    wd = pretrain_run_dir(str(tmp_path), 2, 1)
    os.makedirs(wd)
    path = osp.join(wd, 'backbone.pth')
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)},
                'meta': dict(tasks=['semseg', 'depth'],
                             config=f'/another/checkout/configs/{osp.basename(TINY)}')}, path)
    assert pretrain_backbone(TINY, ['semseg', 'depth'], 2, str(tmp_path)) == path
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)},
                'meta': dict(tasks=['semseg', 'depth'], config='/configs/other.py')}, path)
    with pytest.raises(ValueError, match=r"pretrained with \{'config': '/configs/other.py'\}"):
        pretrain_backbone(TINY, ['semseg', 'depth'], 2, str(tmp_path))
