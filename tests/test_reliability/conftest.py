"""Fixtures of the reliability tests; helpers are in reliability_utils."""
import pytest
import torch
from mmengine.registry import init_default_scope
from reliability_utils import SYNTHETIC

import mmdmtl  # noqa: F401  (registers the modules)


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """mmseg default scope, and one torch thread (the CI machine has 2 cores
    shared with the subprocesses some tests start)."""
    init_default_scope('mmseg')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """The tiny synthetic dataset, rendered once per test session: the folder
    of its generation (MTAN layout directly inside)."""
    from mmdmtl.datasets.synthetic import ensure_synthetic_dataset
    root = str(tmp_path_factory.mktemp('reliability') / 'synthetic')
    return ensure_synthetic_dataset(root, progress=False, num_workers=1, **SYNTHETIC)


