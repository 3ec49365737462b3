"""Summary of refined-vs-initial analyses over several runs."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmdmtl.experiments.reporting import refinement_summary, refinement_summary_markdown

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

RUNS = [
    {'final': {'semseg/mIoU': 20.0, 'depth/absErr': 0.60},
     'initial': {'semseg/mIoU': 19.0, 'depth/absErr': 0.62}},
    {'final': {'semseg/mIoU': 22.0, 'depth/absErr': 0.66},
     'initial': {'semseg/mIoU': 22.5, 'depth/absErr': 0.65}},
    {'final': {'semseg/mIoU': 24.0, 'depth/absErr': 0.50},
     'initial': {'semseg/mIoU': 21.5, 'depth/absErr': 0.55}},
]


def test_summary_values_and_direction():
    s = refinement_summary(RUNS, ['semseg', 'depth'])
    row = s[(s['mode'] == 'final') & (s['task'] == 'semseg')].iloc[0]
    assert row['mean'] == pytest.approx(22.0)
    assert row['std'] == pytest.approx((8 / 3) ** 0.5)           # population std of 20, 22, 24
    assert row['diff_mean'] == pytest.approx((1.0 - 0.5 + 2.5) / 3)
    assert row['diff_std'] == pytest.approx(1.5 ** 0.5)         # std of 1, -0.5, 2.5
    assert (row['better'], row['runs']) == (2, 3)
    # depth: lower is better, so a negative change is an improvement
    row = s[(s['mode'] == 'final') & (s['task'] == 'depth')].iloc[0]
    assert row['diff_mean'] == pytest.approx((-0.02 + 0.01 - 0.05) / 3)
    assert row['better'] == 2
    row = s[(s['mode'] == 'initial') & (s['task'] == 'depth')].iloc[0]
    assert row['diff_mean'] == 0 and row['better'] == 0
    md = refinement_summary_markdown(s, ['semseg', 'depth'])
    assert '| final | 22.00 ± 1.63 (+1.00 ± 1.22; better in 2/3) |' in md
    assert '| initial | 21.00 ± 1.47 |' in md


def test_summary_of_other_metrics_than_the_headline():
    runs = [{m: {'normal/mean_at_disc': at, 'normal/mean_off_disc': off} for m, at, off in modes}
            for modes in ((('final', 38.0, 16.0), ('initial', 40.0, 16.5)),
                          (('final', 35.0, 15.5), ('initial', 36.0, 15.0)))]
    cols = {'normal/mean_at_disc': ('normal/mean_at_disc', False),
            'normal/mean_off_disc': ('normal/mean_off_disc', False)}
    s = refinement_summary(runs, list(cols), metrics=cols)
    row = s[(s['mode'] == 'final') & (s['task'] == 'normal/mean_at_disc')].iloc[0]
    assert row['diff_mean'] == pytest.approx(-1.5) and row['better'] == 2
    row = s[(s['mode'] == 'final') & (s['task'] == 'normal/mean_off_disc')].iloc[0]
    assert row['diff_mean'] == pytest.approx(0.0) and row['better'] == 1
    md = refinement_summary_markdown(s, list(cols), metrics=cols)
    assert '| predictions | normal/mean_at_disc ↓ | normal/mean_off_disc ↓ |' in md
    assert '| final | 36.50 ± 1.50 (-1.50 ± 0.50; better in 2/2) |' in md


def test_summary_errors_name_the_run():
    with pytest.raises(ValueError, match='no results'):
        refinement_summary([], ['semseg'])
    with pytest.raises(ValueError, match="run 1 has no 'initial'"):
        refinement_summary([RUNS[0], {'final': RUNS[0]['final']}], ['semseg'])
    with pytest.raises(ValueError, match="run 0 mode 'final' has no 'normal/mean'"):
        refinement_summary(RUNS[:1], ['normal'])


def test_cli_summarize(tmp_path):
    dirs = []
    for i, res in enumerate(RUNS):
        d = tmp_path / f'seed{i}'
        d.mkdir()
        (d / 'refinement.json').write_text(json.dumps(res))
        dirs.append(str(d))
    out = tmp_path / 'summary'
    tool = osp.join(ROOT, 'tools', 'analyze_refinement.py')
    proc = subprocess.run([sys.executable, tool, '--summarize', *dirs, '--out', str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    md = (out / 'refinement_summary.md').read_text()
    assert 'better in 2/3' in md and '3 runs' in md
    rows = json.loads((out / 'refinement_summary.json').read_text())
    assert {r['task'] for r in rows} == {'semseg', 'depth'}
    assert 'discontinuities' not in md
    # analyses with the split at discontinuities (--disc-width) get a second table
    for i, d in enumerate(dirs):
        res = {m: dict(v, **{'depth/absErr_at_disc': 0.8 + i / 10 - (m == 'final') / 20,
                             'depth/absErr_off_disc': v['depth/absErr']})
               for m, v in RUNS[i].items()}
        with open(osp.join(d, 'refinement.json'), 'w') as f:
            json.dump(res, f)
    proc = subprocess.run([sys.executable, tool, '--summarize', *dirs, '--out', str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    md = (out / 'refinement_summary.md').read_text()
    assert "Errors at and off the ground truth's discontinuities" in md
    assert '| final | 0.8500 ± 0.0816 (-0.0500 ± 0.0000; better in 3/3) |' in md
    rows = json.loads((out / 'refinement_summary.json').read_text())
    assert {r['task'] for r in rows} == {'semseg', 'depth', 'depth/absErr_at_disc',
                                         'depth/absErr_off_disc'}
    bad = subprocess.run([sys.executable, tool, '--summarize', str(tmp_path), '--out', str(out)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and 'no refinement.json in' in bad.stderr
    none = subprocess.run([sys.executable, tool, '--summarize', *dirs],
                          capture_output=True, text=True, timeout=120)
    assert none.returncode == 2 and '--summarize needs --out' in none.stderr
