"""Shared fixtures of the dataset / transform tests."""
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

import mmdmtl  # noqa: F401  (registers the modules)
from mmdmtl.datasets.splits import SPLITS_DIR


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')
    yield


@pytest.fixture
def published_split():
    """Path of a published split file shipped in ``mmdmtl/datasets/splits``.

    The files are part of the package, so a missing one is a failure, never
    a skip.
    """

    def get(name: str) -> str:
        path = osp.join(SPLITS_DIR, name)
        assert osp.isfile(path), (
            f'published split file {path} is missing from the package '
            '(mmdmtl/datasets/splits ships it)')
        return path

    return get
