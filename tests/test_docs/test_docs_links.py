"""The documentation pages hold together: every relative link of README.md and
docs/**/*.md points to an existing file, every script the docs tell a user to
run (``tools/...``, ``demo/...``) and every config they name exists, and
``docs/en/index.md`` links every page of ``docs/en``."""
import glob
import itertools
import os.path as osp
import re
from typing import Iterator, List, Tuple

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS_EN = osp.join(ROOT, 'docs', 'en')

#: The pages the documentation must have (issue #15, "Docs").
REQUIRED_PAGES = (
    'index.md',
    'get_started.md',
    'user_guides/1_config.md',
    'user_guides/2_dataset_prepare.md',
    'user_guides/3_train_test.md',
    'user_guides/4_inference.md',
    'user_guides/5_add_backbone.md',
    'user_guides/6_add_task.md',
    'evaluation_protocol.md',
    'results.md',
)

#: ``[text](target)`` and ``![alt](target)``; the target ends at a space or ``)``.
LINK_RE = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
#: Reference-style definitions ``[name]: target``.
REF_DEF_RE = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$', re.MULTILINE)
#: Repository files named in the text or in code blocks: scripts and configs.
#: ``{a,b}`` alternatives are expanded (``configs/stl-{semseg,depth}_...py``).
FILE_RE = re.compile(r'(?<![\w./-])((?:tools|demo|configs)/[\w./{},*-]*?\.(?:py|sh))(?![\w])')


#: The README at the repository root: short, linking to the docs pages.
README = osp.join(ROOT, 'README.md')


def markdown_files() -> List[str]:
    """README.md and every Markdown file under docs/, as absolute paths."""
    files = [osp.join(ROOT, 'README.md')]
    files += sorted(glob.glob(osp.join(ROOT, 'docs', '**', '*.md'), recursive=True))
    return [f for f in files if osp.isfile(f)]


def strip_code(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans (links inside
    code are not links)."""
    text = re.sub(r'^(```|~~~).*?^\1\s*$', '', text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r'`[^`\n]*`', '', text)


def relative_links(text: str) -> Iterator[str]:
    """Targets of the relative links of a Markdown text (no URLs, no pure
    ``#anchors``), with any ``#anchor`` or ``?query`` removed."""
    prose = strip_code(text)
    for target in itertools.chain(LINK_RE.findall(prose), REF_DEF_RE.findall(prose)):
        if re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', target) or target.startswith('#'):
            continue  # http:, https:, mailto:, ... or an anchor on the same page
        path = re.split(r'[#?]', target, maxsplit=1)[0]
        if path:
            yield path


def expand_braces(pattern: str) -> List[str]:
    """``'a-{x,y}.py'`` -> ``['a-x.py', 'a-y.py']`` (nested braces too)."""
    m = re.search(r'\{([^{}]*)\}', pattern)
    if m is None:
        return [pattern]
    out = []
    for alt in m.group(1).split(','):
        out += expand_braces(pattern[:m.start()] + alt + pattern[m.end():])
    return out


def named_repo_files(text: str) -> Iterator[str]:
    """Repository paths of scripts and configs named anywhere in ``text``."""
    for raw in FILE_RE.findall(text):
        if '*' in raw or 'X.py' in raw or osp.basename(raw).startswith('my_'):
            continue  # a glob, a placeholder, or a file the guide tells the user to write
        yield from expand_braces(raw)


def _rel(path: str) -> str:
    return osp.relpath(path, ROOT)


def broken_links(md_file: str) -> List[Tuple[str, str]]:
    """``(link, resolved path)`` of the links of ``md_file`` that point nowhere."""
    with open(md_file, encoding='utf-8') as f:
        text = f.read()
    bad = []
    for link in relative_links(text):
        resolved = osp.normpath(osp.join(osp.dirname(md_file), link))
        if not osp.exists(resolved):
            bad.append((link, _rel(resolved)))
    return bad


# ----------------------------------------------------------------- helpers


def test_helpers_find_links_and_files():
    """The parsers see what they must (else the tests below could not fail)."""
    text = ('See [guide](user_guides/1_config.md#names), ![pic](../x.png "t"), '
            '[web](https://example.org) and [top](#top).\n'
            '[ref]: ../README.md\n'
            '```bash\npython tools/train.py CONFIG  # [not a link](nowhere.md)\n```\n'
            'Run `python demo/image_demo.py IMG` or configs/stl-{semseg,depth}_r18.py.\n'
            'Save as configs/my_model.py.\n')
    assert list(relative_links(text)) == ['user_guides/1_config.md', '../x.png',
                                          '../README.md']
    assert list(named_repo_files(text)) == [
        'tools/train.py', 'demo/image_demo.py', 'configs/stl-semseg_r18.py',
        'configs/stl-depth_r18.py']


def test_broken_link_is_reported(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('[ok](page.md) and [missing](no/such/file.md)\n')
    assert broken_links(str(page)) == [('no/such/file.md', _rel(str(tmp_path / 'no/such/file.md')))]


# ------------------------------------------------------------------- checks


def test_required_pages_exist():
    missing = [p for p in REQUIRED_PAGES if not osp.isfile(osp.join(DOCS_EN, p))]
    assert not missing, f'docs/en lacks {missing}'


@pytest.mark.parametrize('md_file', markdown_files(), ids=_rel)
def test_relative_links_resolve(md_file):
    bad = broken_links(md_file)
    assert not bad, f'{_rel(md_file)}: links to missing files: {bad}'


@pytest.mark.parametrize('md_file', markdown_files(), ids=_rel)
def test_named_scripts_and_configs_exist(md_file):
    with open(md_file, encoding='utf-8') as f:
        text = f.read()
    missing = sorted({p for p in named_repo_files(text) if not osp.isfile(osp.join(ROOT, p))})
    assert not missing, f'{_rel(md_file)} names files that do not exist: {missing}'


def test_index_links_every_page():
    """Every page of docs/en (but the index and the README draft) is reachable
    from docs/en/index.md."""
    index = osp.join(DOCS_EN, 'index.md')
    assert osp.isfile(index), 'docs/en/index.md is missing'
    with open(index, encoding='utf-8') as f:
        linked = {osp.normpath(osp.join(DOCS_EN, link)) for link in relative_links(f.read())}
    pages = {osp.normpath(p) for p in glob.glob(osp.join(DOCS_EN, '**', '*.md'), recursive=True)}
    pages -= {osp.normpath(index)}
    unlinked = sorted(_rel(p) for p in pages - linked)
    assert not unlinked, f'docs/en/index.md does not link {unlinked}'


def test_readme_links_the_documentation():
    """The short README links every required page, the changelog and the
    per-algorithm READMEs, and keeps the two quick-start commands."""
    with open(README, encoding='utf-8') as f:
        text = f.read()
    links = list(relative_links(text))
    missing = [lnk for lnk in links if not osp.exists(osp.join(ROOT, lnk))]
    assert not missing, f'README.md links missing files: {missing}'
    wanted = {osp.join('docs', 'en', p) for p in REQUIRED_PAGES}
    wanted |= {'CHANGELOG.md', 'configs/diffusionmtl/README.md'}
    unlinked = sorted(wanted - {osp.normpath(lnk.split('#')[0]) for lnk in links})
    assert not unlinked, f'README.md does not link {unlinked}'
    assert 'bash tools/install.sh && python tools/quickstart.py' in text
    assert 'bash tools/install.sh --tests && python -m pytest tests' in text
