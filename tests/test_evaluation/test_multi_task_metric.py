"""MultiTaskMetric: Δm signs, composition, Evaluator use, real 2-process run."""
import math
import os
import pickle

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from mmengine.evaluator import Evaluator

from mmdmtl.evaluation import MultiTaskMetric
from mmdmtl.evaluation.functional import delta_m, flatten_baselines, metric_higher_is_better

META = dict(classes=('a', 'b', 'c'), palette=[[0, 0, 0]] * 3)


def test_delta_m_signs():
    base = {'semseg/mIoU': 50.0, 'depth/absErr': 0.5, 'normal/mean': 20.0}
    better = {'semseg/mIoU': 55.0, 'depth/absErr': 0.45, 'normal/mean': 18.0}
    worse = {'semseg/mIoU': 45.0, 'depth/absErr': 0.55, 'normal/mean': 22.0}
    assert delta_m(better, base) == pytest.approx(10.0)
    assert delta_m(worse, base) == pytest.approx(-10.0)
    # a gain in one task and a loss in another cancel
    assert delta_m({'semseg/mIoU': 55.0, 'depth/absErr': 0.55}, {
        'semseg/mIoU': 50.0, 'depth/absErr': 0.5}) == pytest.approx(0.0)


def test_delta_m_reproduces_paper_table3():
    # NYUD one-label, DiffusionMTL (Feature) vs single task: -2.26 (paper -2.27)
    base = {'semseg': {'mIoU': 45.28}, 'depth': {'absErr': 0.4802}, 'normal': {'mean': 25.93}}
    res = {'semseg/mIoU': 44.47, 'depth/absErr': 0.5059, 'normal/mean': 25.84}
    assert delta_m(res, base) == pytest.approx(-2.26, abs=0.01)


def test_directions_and_baseline_spec_errors():
    assert metric_higher_is_better('edge/odsF') and metric_higher_is_better('sal/maxF')
    assert not metric_higher_is_better('depth/rmse')
    assert not metric_higher_is_better('normal/median')
    assert metric_higher_is_better('x/custom', {'x/custom': True})
    assert not metric_higher_is_better('semseg/mIoU', {'mIoU': False})
    with pytest.raises(KeyError, match='custom'):
        metric_higher_is_better('x/custom')
    assert flatten_baselines({'semseg': {'semseg/mIoU': 1}}) == {'semseg/mIoU': 1.0}
    with pytest.raises(ValueError, match='is 0'):
        flatten_baselines({'a/mIoU': 0})
    with pytest.raises(KeyError, match='depth/absErr'):
        delta_m({'semseg/mIoU': 1.0}, {'depth/absErr': 1.0})
    with pytest.raises(KeyError, match='Unknown direction'):
        MultiTaskMetric(task_metrics=[dict(type='MTLDepthMetric')], baselines={'depth/foo': 1.0})
    with pytest.raises(ValueError, match='unique'):
        MultiTaskMetric(task_metrics=[dict(type='MTLDepthMetric'), dict(type='MTLDepthMetric')])


def _samples(make_sample, n=5, seed=0, as_dict=True):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        seg = rng.integers(0, 3, (6, 8))
        depth = rng.uniform(1, 3, (6, 8))
        out.append(make_sample(
            {'semseg': seg, 'depth': depth + 1.0},
            {'semseg': seg, 'depth': depth},
            {'semseg': i % 2 == 0, 'depth': True}, name=str(i), as_dict=as_dict))
    return out


def _cfg(**kwargs):
    return dict(type='MultiTaskMetric',
                task_metrics=[dict(type='MTLIoUMetric', task='semseg'),
                              dict(type='MTLDepthMetric')],
                baselines={'semseg/mIoU': 50.0, 'depth/absErr': 2.0}, **kwargs)


def test_composite_keys_and_delta(make_sample):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')  # as the Runner does with default_scope='mmseg'
    # perfect semseg (+100 %) and absErr 1.0 vs 2.0 (+50 %) -> Δm = 75 %
    evaluator = Evaluator(_cfg())
    evaluator.dataset_meta = META
    samples = _samples(make_sample, as_dict=False)
    evaluator.process(data_samples=samples[:2])
    evaluator.process(data_samples=samples[2:])
    res = evaluator.evaluate(len(samples))
    assert res['semseg/mIoU'] == pytest.approx(100.0)
    assert res['depth/absErr'] == pytest.approx(1.0)
    assert res['mtl/delta_m'] == pytest.approx(75.0)
    assert {'semseg/aAcc', 'depth/rmse', 'depth/d1'} <= set(res)


def test_no_baselines_no_delta(make_sample):
    from mmdmtl.registry import METRICS
    m = METRICS.build(dict(type='MultiTaskMetric', task_metrics=[dict(type='MTLDepthMetric')]))
    m.dataset_meta = META
    m.process({}, _samples(make_sample))
    res = m.evaluate(5)
    assert 'mtl/delta_m' not in res and 'depth/absErr' in res


def test_batch_size_invariance(make_sample):
    from mmdmtl.registry import METRICS
    samples = _samples(make_sample, n=9, seed=3)
    results = []
    for bs in (1, 8):
        m = METRICS.build(_cfg())
        m.dataset_meta = META
        for i in range(0, 9, bs):
            m.process({}, samples[i:i + bs])
        results.append(m.evaluate(9))
    assert results[0] == results[1]
    assert not math.isnan(results[0]['mtl/delta_m'])


def _worker(rank, world_size, init_file, out_file, n, batch_size):
    import torch.distributed as dist
    from tests_eval_conftest import build_sample  # registered by the parent test

    from mmdmtl.registry import METRICS
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world_size)
    try:
        samples = _samples(build_sample, n=n, seed=7)
        total = -(-n // world_size) * world_size
        idx = (list(range(n)) + list(range(total - n)))[rank:total:world_size]
        m = METRICS.build(_cfg())
        m.dataset_meta = META
        for i in range(0, len(idx), batch_size):
            m.process({}, [samples[j] for j in idx[i:i + batch_size]])
        res = m.evaluate(n)
        if rank == 0:
            with open(out_file, 'wb') as f:
                pickle.dump(res, f)
    finally:
        dist.destroy_process_group()


def test_real_two_process_gloo_equals_single_process(make_sample, tmp_path, monkeypatch):
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    # make conftest's builder importable under a unique name in the workers
    import importlib.util
    spec = importlib.util.spec_from_file_location('tests_eval_conftest',
                                                  os.path.join(here, 'conftest.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, 'tests_eval_conftest', module)
    n = 7  # odd: the distributed sampler pads one sample
    out = tmp_path / 'res.pkl'
    ctx = mp.get_context('fork')
    procs = [ctx.Process(target=_worker, args=(r, 2, str(tmp_path / 'init'), str(out), n, 2))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    with open(out, 'rb') as f:
        dist_res = pickle.load(f)
    from mmdmtl.registry import METRICS
    single = METRICS.build(_cfg())
    single.dataset_meta = META
    single.process({}, _samples(make_sample, n=n, seed=7))
    assert dist_res == single.evaluate(n)
    assert torch.distributed.is_available()
