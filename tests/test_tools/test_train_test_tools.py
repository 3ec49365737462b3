"""End to end through the command-line tools: tools/train.py trains and
evaluates, --resume continues, tools/test.py evaluates and draws pictures."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmdmtl.engine.runner import safe_torch_load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND='Agg', OMP_NUM_THREADS='2')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _data_opts(root):
    return [f'{k}.dataset.data_root={root}'
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('e2e')
    data_root = str(tmp / 'synthetic')
    work = str(tmp / 'work')
    out = _run([osp.join(ROOT, 'tools', 'train.py'), TINY, '--work-dir', work,
                '--cfg-options'] + _data_opts(data_root), cwd=str(tmp))
    return dict(tmp=tmp, data_root=data_root, work=work, log=out)


def test_train_tool_trains_evaluates_and_checkpoints(trained):
    work = trained['work']
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    assert glob.glob(osp.join(work, 'best_mtl_delta_m_iter_*.pth'))
    log = trained['log']
    for key in ('decode.loss_semseg', 'decode.loss_depth', 'decode.loss_normal',
                'decode.loss_edge', 'semseg/mIoU', 'depth/absErr', 'normal/mean',
                'edge/odsF', 'mtl/delta_m'):
        assert key in log, key
    ckpt = safe_torch_load(osp.join(work, 'iter_4.pth'))  # loads safely
    assert ckpt['meta']['iter'] == 4


def test_resume_from_checkpoint_matches(trained, tmp_path):
    work2 = str(tmp_path / 'resumed')
    os.makedirs(work2)
    # resume from iteration 2 of the first run and finish to iteration 4
    _run([osp.join(ROOT, 'tools', 'train.py'), TINY, '--work-dir', work2, '--resume',
          osp.join(trained['work'], 'iter_2.pth'), '--cfg-options']
         + _data_opts(trained['data_root']), cwd=str(tmp_path))
    a = safe_torch_load(osp.join(trained['work'], 'iter_4.pth'))['state_dict']
    b = safe_torch_load(osp.join(work2, 'iter_4.pth'))['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=k)


def test_auto_resume_flag(trained, tmp_path):
    # --resume without a value picks the latest checkpoint of the work dir
    out = _run([osp.join(ROOT, 'tools', 'train.py'), TINY, '--work-dir', trained['work'],
                '--resume', '--cfg-options', 'train_cfg.max_iters=5']
               + _data_opts(trained['data_root']), cwd=str(tmp_path))
    assert 'resumed' in out.lower() or 'resume' in out.lower()
    assert osp.isfile(osp.join(trained['work'], 'iter_5.pth')) or 'Iter(train) [5/5]' in out


def test_test_tool_metrics_and_pictures(trained, tmp_path):
    work = str(tmp_path / 'test')
    out = _run([osp.join(ROOT, 'tools', 'test.py'), TINY,
                osp.join(trained['work'], 'iter_4.pth'), '--work-dir', work,
                '--show-dir', 'vis', '--out', str(tmp_path / 'preds.pkl'),
                '--cfg-options'] + _data_opts(trained['data_root']), cwd=str(tmp_path))
    assert 'mtl/delta_m' in out and 'semseg/mIoU' in out
    pngs = glob.glob(osp.join(work, '*', 'vis', '*.png'))
    assert len(pngs) == 6, pngs
    assert osp.isfile(tmp_path / 'preds.pkl')
    # metrics json written by the runner
    jsons = glob.glob(osp.join(work, '*', '*.json'))
    assert jsons
    with open(jsons[0]) as f:
        metrics = json.load(f)
    assert 'depth/absErr' in metrics


def test_analyze_refinement_tool(trained, tmp_path):
    """The three modes; with --disc-width, each mode's depth and normal error
    split at / off the ground truth's discontinuities, the two parts
    weighted by their pixel shares giving the whole set's error."""
    out = str(tmp_path / 'analysis')
    log = _run([osp.join(ROOT, 'tools', 'analyze_refinement.py'), TINY,
                osp.join(trained['work'], 'iter_4.pth'), '--out', out, '--disc-width', '1',
                '--cfg-options'] + _data_opts(trained['data_root']), cwd=str(tmp_path))
    with open(osp.join(out, 'refinement.json')) as f:
        res = json.load(f)
    assert list(res) == ['final', 'final, no noise', 'initial']
    for name in res:
        assert 'semseg/mIoU' in res[name] and 'depth/absErr' in res[name]
        for whole, at, off, pct in (('depth/absErr', 'depth/absErr_at_disc',
                                     'depth/absErr_off_disc', 'depth/disc_pct'),
                                    ('normal/mean', 'normal/mean_at_disc',
                                     'normal/mean_off_disc', 'normal/disc_pct')):
            share = res[name][pct] / 100
            assert 0 < share < 1, (name, pct)
            assert share * res[name][at] + (1 - share) * res[name][off] == pytest.approx(
                res[name][whole], rel=1e-6), (name, whole)
    # the refinement changes the predictions: some metric differs
    assert any(res['initial'][k] != res['final, no noise'][k] for k in res['initial'])
    assert '| initial |' in log and 'depth/absErr ↓' in log
    assert "Errors at and off the ground truth's discontinuities" in log
    assert '| predictions | depth at disc. | depth off disc. | normal at disc.' in log


def test_analyze_refinement_on_the_validation_set_chooses_outputs(trained, tmp_path):
    """--split val evaluates on val_dataloader (here 3 of the 6 images, so
    its metrics differ from the test set's), writes the per-task choice of
    refined or initial map consistent with what it measured there, and
    --test-choice tests that choice: every task's test metric equals the
    test-set analysis of the mode chosen for it."""
    ckpt = osp.join(trained['work'], 'iter_4.pth')
    tool = osp.join(ROOT, 'tools', 'analyze_refinement.py')
    _run([tool, TINY, ckpt, '--out', str(tmp_path / 'test'), '--cfg-options']
         + _data_opts(trained['data_root']), cwd=str(tmp_path))
    out = str(tmp_path / 'val')
    log = _run([tool, TINY, ckpt, '--out', out, '--split', 'val', '--test-choice',
                '--cfg-options', 'val_dataloader.dataset.indices=3']
               + _data_opts(trained['data_root']), cwd=str(tmp_path))
    on_test = json.load(open(tmp_path / 'test' / 'refinement.json'))
    on_val = json.load(open(osp.join(out, 'refinement.json')))
    choice = json.load(open(osp.join(out, 'output_choice.json')))
    tested = json.load(open(osp.join(out, 'test_metrics_choice.json')))
    assert on_val['initial']['semseg/mIoU'] != on_test['initial']['semseg/mIoU']
    assert set(choice) == {'semseg', 'depth', 'normal', 'edge'}
    headline = {'semseg': ('semseg/mIoU', True), 'depth': ('depth/absErr', False),
                'normal': ('normal/mean', False), 'edge': ('edge/odsF', True)}
    for task, (key, higher) in headline.items():
        gain = on_val['final'][key] - on_val['initial'][key]
        not_worse = gain >= 0 if higher else gain <= 0
        assert choice[task] == ('final' if not_worse else 'initial'), task
        mode = 'final' if choice[task] == 'final' else 'initial'
        assert tested[key] == pytest.approx(on_test[mode][key], rel=1e-6, abs=1e-9), task
    for t in (t for t, m in choice.items() if m == 'initial'):
        assert f'model.test_cfg.output.{t}=initial' in log
    assert 'val set' in log and 'Test set with this choice' in log
    with pytest.raises(AssertionError, match='--test-choice needs --split val'):
        _run([tool, TINY, ckpt, '--test-choice'], cwd=str(tmp_path))


def test_quickstart_tool_writes_results_with_trivial_floor(tmp_path):
    """tools/quickstart.py (on the tiny config, 2 iterations): trains, tests,
    draws one picture per validation image and writes results.md with the
    trivial predictor beside the model."""
    wd = str(tmp_path / 'qs')
    log = _run([osp.join(ROOT, 'tools', 'quickstart.py'), '--config', TINY, '--iters', '2',
                '--work-dir', wd], cwd=str(tmp_path))
    md = open(osp.join(wd, 'results.md')).read()
    assert '| metric | trained model | trivial (constant prediction) |' in md
    trivial = json.load(open(osp.join(wd, 'metrics_trivial.json')))
    metrics = json.load(open(osp.join(wd, 'metrics.json')))
    assert set(trivial) == set(metrics)
    assert f"| semseg/mIoU | {metrics['semseg/mIoU']:.4f} | {trivial['semseg/mIoU']:.4f} |" in md
    vis = glob.glob(osp.join(wd, '*', 'vis', '*.png'))
    assert len(vis) == 6, vis  # one per validation image of the tiny config
    assert '[quickstart] pictures:' in log
