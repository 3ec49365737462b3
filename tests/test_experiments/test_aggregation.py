"""mmdmtl.experiments aggregation and reports on hand-made run records."""
import pandas as pd
import pytest

from mmdmtl.experiments.aggregation import runs_frame, summarise, summary_dict
from mmdmtl.experiments.reporting import (
    initial_loss_curves,
    sweep_figure,
    sweep_markdown,
    table_markdown,
    to_markdown,
)

TASKS = ['semseg', 'depth']
LABELS = {'stl': 'Single-task', 'mtl': 'MTL baseline'}


def _records():
    def rec(method, tasks, seed, **m):
        return dict(method=method, tasks=tasks, split='onelabel', seed=seed,
                    single_task=method == 'stl',
                    metrics={k.replace('_', '/'): v for k, v in m.items()})
    return [
        rec('stl', ['semseg'], 0, semseg_mIoU=40.0), rec('stl', ['depth'], 0, depth_absErr=0.5),
        rec('stl', ['semseg'], 1, semseg_mIoU=50.0), rec('stl', ['depth'], 1, depth_absErr=0.4),
        # seed 0: mIoU +10% (better), absErr +10% (worse) -> Δm 0
        rec('mtl', TASKS, 0, semseg_mIoU=44.0, depth_absErr=0.55),
        # seed 1: both better by 10% -> Δm +10
        rec('mtl', TASKS, 1, semseg_mIoU=55.0, depth_absErr=0.36),
    ]


def test_delta_m_per_run_follows_each_task_direction():
    frame = runs_frame(_records(), TASKS)
    mtl = frame[frame.method == 'mtl'].set_index('seed')
    assert mtl.loc[0, 'delta_m'] == pytest.approx(0.0)
    assert mtl.loc[1, 'delta_m'] == pytest.approx(10.0)
    stl = frame[frame.method == 'stl'].set_index('seed')
    assert stl.loc[1, 'semseg'] == 50.0 and stl.loc[1, 'depth'] == 0.4
    assert (stl['delta_m'] == 0).all()


def test_mean_and_population_std_over_seeds():
    summary = summarise(runs_frame(_records(), TASKS))
    assert list(summary.index) == [('onelabel', 'stl'), ('onelabel', 'mtl')]
    row = summary.loc[('onelabel', 'mtl')]
    assert row[('semseg', 'mean')] == pytest.approx(49.5)
    assert row[('semseg', 'std')] == pytest.approx(5.5)  # ddof=0
    assert row[('depth', 'mean')] == pytest.approx(0.455)
    assert row[('delta_m', 'mean')] == pytest.approx(5.0)
    assert row[('delta_m', 'std')] == pytest.approx(5.0)
    js = summary_dict(summary)
    assert js['onelabel/mtl']['delta_m'] == pytest.approx([5.0, 5.0])
    assert js['onelabel/stl']['delta_m'] == [0.0, 0.0]


def test_markdown_table_content():
    summary = summarise(runs_frame(_records(), TASKS))
    md = table_markdown(summary, TASKS, LABELS, 'intro.', single_task=['stl'])
    lines = md.splitlines()
    assert lines[0] == 'intro.'
    assert lines[2] == '| labels | method | semseg mIoU↑ | depth absErr↓ | Δm (%)↑ |'
    assert lines[3] == '|---|---|---|---|---|'
    assert lines[4] == '| onelabel | Single-task | 45.00 ± 5.00 | 0.4500 ± 0.0500 | – |'
    assert lines[5] == ('| onelabel | MTL baseline | 49.50 ± 5.50 | 0.4550 ± 0.0950 | '
                        '+5.00 ± 5.00 |')


def test_sweep_markdown_rows_per_method_and_fraction():
    frame = runs_frame([r for r in _records() if r['method'] == 'mtl'], TASKS,
                       reference={('frac100', 0): {'semseg/mIoU': 40.0, 'depth/absErr': 0.5},
                                  ('frac100', 1): {'semseg/mIoU': 50.0, 'depth/absErr': 0.4}},
                       reference_split='frac100')
    frame['fraction'] = 50.0
    summary = summarise(frame.drop(columns='split'), by=('method', 'fraction'))
    md = sweep_markdown(summary, TASKS, LABELS, 'sweep.')
    assert '| MTL baseline | 50 | 49.50 ± 5.50 | 0.4550 ± 0.0950 | +5.00 ± 5.00 |' in md


def test_sweep_figure_keeps_each_method_one_colour_and_its_legend_off_the_curves():
    import numpy as np
    from matplotlib.colors import to_hex
    # single-task rows first and without Δm, as label_efficiency_table.py passes them
    index = pd.MultiIndex.from_tuples([(m, f) for m in ('stl', 'mtl', 'refined')
                                       for f in (25.0, 50.0)])
    columns = pd.MultiIndex.from_product([['semseg', 'depth', 'delta_m'], ['mean', 'std']])
    values = {'stl': [30, 0, 0.6, 0, np.nan, np.nan], 'mtl': [33, 1, 0.56, 0, 12, 1],
              'refined': [36, 1, 0.55, 0, 17, 1]}
    summary = pd.DataFrame([values[m] for m, _ in index], index=index, columns=columns)
    fig = sweep_figure(summary, None, TASKS, {'mtl': 'MTL baseline'})
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ['semseg/mIoU (higher is better)',
                                              'depth/absErr (lower is better)', 'Δm']

    def colours(ax):  # label -> colour of its curve
        return {c.get_label(): to_hex(c.lines[0].get_color()) for c in ax.containers}
    assert colours(axes[0]) == colours(axes[1])
    assert colours(axes[2]) == {k: v for k, v in colours(axes[0]).items() if k != 'stl'}
    assert len(set(colours(axes[0]).values())) == 3
    # one legend for the figure, below every panel, naming every method once
    assert all(ax.get_legend() is None for ax in axes) and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ['stl', 'MTL baseline', 'refined']
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert all(box.y1 < ax.get_tightbbox().y0 for ax in axes)
    # the fractions are the only x tick labels
    for ax in axes:
        labels = [t.get_text() for t in ax.get_xticklabels(which='both') if t.get_text()]
        assert labels == ['25', '50']
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_missing_reference_and_metric_name_the_run():
    recs = [r for r in _records() if not (r['method'] == 'stl' and r['seed'] == 1)]
    with pytest.raises(KeyError, match='mtl onelabel seed 1.*single-task'):
        runs_frame(recs, TASKS)
    recs = _records()
    del recs[-1]['metrics']['depth/absErr']
    with pytest.raises(KeyError, match="mtl onelabel seed 1: no metric 'depth/absErr'"):
        runs_frame(recs, TASKS)


def test_to_markdown_is_compact_whatever_the_widths():
    df = pd.DataFrame([{'method': 'DiffusionMTL (Prediction)', '%': '5'},
                       {'method': 'MTL baseline', '%': '100'}])
    assert to_markdown(df).splitlines() == [
        '| method | % |', '|---|---|', '| DiffusionMTL (Prediction) | 5 |',
        '| MTL baseline | 100 |']


def test_initial_loss_curves_prefer_the_initial_decoder_loss():
    scalars = pd.DataFrame([
        {'step': 1, 'decode.loss_semseg': 2.0, 'decode.loss_semseg_init': 1.0,
         'decode.loss_depth': 3.0},
        {'step': 2, 'decode.loss_semseg': 1.5, 'decode.loss_semseg_init': 0.8,
         'decode.loss_depth': 2.0},
        {'step': 2, 'semseg/mIoU': 10.0},  # a validation line
    ])
    curves = initial_loss_curves(scalars, TASKS)
    assert list(curves['step']) == [1, 2]
    assert list(curves['semseg']) == [1.0, 0.8]  # loss_semseg_init, not the refined one
    assert list(curves['depth']) == [3.0, 2.0]  # no refinement: the only loss


def test_initial_loss_is_unscaled_by_the_initial_loss_weight():
    scalars = pd.DataFrame([{'step': 1, 'decode.loss_semseg_init': 0.5,
                             'decode.loss_depth': 3.0}])
    curves = initial_loss_curves(scalars, TASKS, initial_loss_weight=0.5)
    assert list(curves['semseg']) == [1.0]  # logged as 0.5 x loss
    assert list(curves['depth']) == [3.0]  # the loss of a head without refinement


def test_headline_and_decimals_come_from_the_task_classes():
    from mmdmtl.experiments import fmt_mean_std
    from mmdmtl.experiments.aggregation import headline
    from mmdmtl.tasks import get_task, task_names
    head = headline()
    assert set(head) == set(task_names())
    for t in task_names():
        assert head[t] == (get_task(t).headline_key, get_task(t).higher_is_better)
    assert head['depth'] == ('depth/absErr', False) and head['semseg'][1] is True
    assert fmt_mean_std(0.61234, 0.01, 'depth') == '0.6123 ± 0.0100'
    assert fmt_mean_std(26.625, 0.2, 'semseg') == '26.62 ± 0.20'
    assert fmt_mean_std(-30.6, 1.5, 'Δm') == '-30.60 ± 1.50'
