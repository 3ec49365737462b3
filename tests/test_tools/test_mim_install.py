"""A non-editable install (what `pip install .` / `mim install .` does)
packages configs and tools under mmdmtl/.mim so that
`mim train mmdmtl <config-name>.py` finds and runs them."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py'


@pytest.mark.slow
def test_pip_install_then_mim_train(tmp_path):
    if shutil.which('mim') is None:
        pytest.skip('openmim is not installed (bash tools/install.sh installs it)')
    src = tmp_path / 'src'
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        '.git', 'data', 'work_dirs', '.mim', '__pycache__', '*.egg-info', 'build',
        '.pytest_cache', '.ruff_cache'))
    site = tmp_path / 'site'
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                        '--no-build-isolation', '--target', str(site), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    mim_dir = site / 'mmdmtl' / '.mim'
    assert (mim_dir / 'configs' / 'diffusionmtl' / CONFIG).is_file()
    assert (mim_dir / 'configs' / '_base_' / 'default_runtime.py').is_file()
    assert (mim_dir / 'tools' / 'train.py').is_file()
    assert (mim_dir / 'model-index.yml').is_file()
    assert (mim_dir / 'configs' / 'diffusionmtl' / 'metafile.yaml').is_file()
    # the published split files ship as package data, with their licence
    splits = site / 'mmdmtl' / 'datasets' / 'splits'
    for name in ('nyuv2_onelabel.pth', 'nyuv2_randomlabels.pth', 'cityscapes_onelabel.pth',
                 'pascal_onelabel.npy', 'pascal_randomlabels.npy', 'LICENSE.MTPSL',
                 'PROVENANCE.md'):
        assert (splits / name).is_file(), name

    data = tmp_path / 'data'
    opts = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'train_dataloader.batch_size=2']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.num_workers=0', f'{loader}.dataset.data_root={data}',
                 f'{loader}.dataset.num_train=8', f'{loader}.dataset.num_val=4']
    env = dict(os.environ, PYTHONPATH=str(site), MPLBACKEND='Agg')
    work = tmp_path / 'work'
    r = subprocess.run(['mim', 'train', 'mmdmtl', CONFIG, '--work-dir', str(work),
                        '--cfg-options'] + opts, cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    # mim resolved the config and train.py inside the installed package
    assert str(mim_dir / 'configs' / 'diffusionmtl' / CONFIG) in out
    assert str(mim_dir / 'tools' / 'train.py') in out
    assert (work / 'iter_2.pth').is_file()

    # `mim search mmdmtl` lists the models of model-index.yml
    r = subprocess.run(['mim', 'search', 'mmdmtl'], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    for name in ('diffusionmtl_r18_1xb4-40k_nyud-288x384', 'mtl-baseline_r18_1xb4-40k_nyud-288x384',
                 'stl-depth_r18_1xb4-40k_nyud-288x384',
                 'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128'):
        assert f'config id: {name}' in r.stdout
