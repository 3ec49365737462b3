"""Setup script of mmdmtl, following the OpenMMLab ``.mim`` convention.

``configs/``, ``tools/`` and ``model-index.yml`` are copied into
``mmdmtl/.mim/`` when a wheel or sdist is built (``pip install .``,
``mim install .``), and symlinked for ``python setup.py develop`` /
editable installs, so that ``mim train mmdmtl <config>.py`` finds them.
"""
import os
import os.path as osp
import shutil
import sys
from typing import List

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmdmtl', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> List[str]:
    """Read requirement lines (no comments, no ``-r``) from ``fname``."""
    out = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                out.append(line)
    return out


def add_mim_extension() -> None:
    """Copy (wheel/sdist) or link (develop) the mim files into the package."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'build', 'install'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'mmdmtl', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src = osp.join(HERE, name)
        tar = osp.join(mim_path, name)
        if not osp.exists(src):
            continue
        if osp.islink(tar) or osp.isfile(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), tar)
        elif osp.isfile(src):
            shutil.copyfile(src, tar)
        else:
            shutil.copytree(src, tar, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmdmtl',
        version=get_version(),
        description='DiffusionMTL (CVPR 2024) multi-task dense prediction '
        'from partially annotated data, as an OpenMMLab / mmsegmentation '
        'plugin',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='multi-task learning, diffusion, segmentation, depth, '
        'surface normals, partial labels, mmsegmentation',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
        include_package_data=True,
        package_data={'mmdmtl': ['.mim/configs/**/*.py', '.mim/configs/**/*.yaml',
                                 '.mim/configs/**/*.md', '.mim/tools/**/*',
                                 '.mim/model-index.yml'],
                      # the published MTPSL split files (MIT, see PROVENANCE.md)
                      'mmdmtl.datasets.splits': ['*.pth', '*.npy', '*.md',
                                                 'LICENSE.MTPSL']},
        python_requires='>=3.8',
        classifiers=[
            'Programming Language :: Python :: 3',
            'License :: OSI Approved :: Apache Software License',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
