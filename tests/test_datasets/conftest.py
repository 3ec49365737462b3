"""Shared fixtures of the dataset / transform tests."""
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

import mmdmtl  # noqa: F401  (registers the modules)

PUBLISHED_SPLITS = '/work/shared/fixtures/partial_splits'


@pytest.fixture(autouse=True)
def _mmseg_scope():
    init_default_scope('mmseg')
    yield


@pytest.fixture
def published_split():
    """Path of a published split file; skip when the fixtures are absent."""

    def get(name: str) -> str:
        path = osp.join(PUBLISHED_SPLITS, name)
        if not osp.isfile(path):
            pytest.skip(f'published split file {path} not available (the MTPSL split '
                        'fixtures are not shipped with mmdmtl)')
        return path

    return get
