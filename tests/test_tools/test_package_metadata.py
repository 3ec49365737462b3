"""Packaging metadata: licence, citation, dependency ranges kept in step
with the import-time version checks."""
import os.path as osp
import re

import mmcv
import mmseg
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

import mmdmtl

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _requirements(name):
    reqs = {}
    with open(osp.join(ROOT, 'requirements', name), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                r = Requirement(line)
                reqs[r.name] = r
    return reqs


def test_license_is_apache_as_setup_declares():
    text = open(osp.join(ROOT, 'LICENSE'), encoding='utf-8').read()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    setup = open(osp.join(ROOT, 'setup.py'), encoding='utf-8').read()
    assert "license='Apache License 2.0'" in setup


def test_citation_cff_is_valid_yaml_with_the_paper():
    with open(osp.join(ROOT, 'CITATION.cff'), encoding='utf-8') as f:
        cff = yaml.safe_load(f)
    assert cff['cff-version'] == '1.2.0'
    assert cff['license'] == 'Apache-2.0'
    assert cff['version'] == mmdmtl.__version__
    pref = cff['preferred-citation']
    assert pref['title'].startswith('Learning Multi-Task Denoising Diffusion Model')
    assert [a['family-names'] for a in pref['authors']] == ['Ye', 'Xu']
    assert pref['year'] == 2024


@pytest.mark.parametrize('fname', ['mminstall.txt', 'runtime.txt'])
def test_mmseg_range_and_installed_versions(fname):
    reqs = _requirements(fname)
    spec = reqs['mmsegmentation'].specifier
    assert str(spec) in ('<1.3,>=1.2.2', '>=1.2.2,<1.3')
    assert Version(mmseg.__version__) in spec
    assert Version('1.2.9') in spec and Version('1.3.0') not in spec
    assert Version('1.2.1') not in spec


def test_mmcv_range_matches_the_import_check():
    spec = _requirements('mminstall.txt')['mmcv'].specifier
    assert Version(mmcv.__version__) in spec
    assert Version(str(mmdmtl._MMCV_MIN)) in spec
    assert Version(str(mmdmtl._MMCV_MAX)) not in spec
    assert mmdmtl._MMSEG_MIN == Version('1.2.2') and mmdmtl._MMSEG_MAX == Version('1.3.0')
    install = open(osp.join(ROOT, 'tools', 'install.sh'), encoding='utf-8').read()
    # the install script checks the same mmcv range
    lo, hi = re.search(r'assert Version\("([^"]+)"\) <= Version\(mmcv.__version__\) < '
                       r'Version\("([^"]+)"\)', install).groups()
    assert Version(lo) == mmdmtl._MMCV_MIN and Version(hi) == mmdmtl._MMCV_MAX
