"""The README's benchmark tables are copies of the tables in
``docs/en/results.md``: every table of the README's "Benchmark protocol"
section must appear there verbatim, so that the two copies cannot drift apart
(a column order or a number changed in one place only)."""
import os.path as osp
import re
from typing import List

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
README = osp.join(ROOT, 'README.md')
RESULTS = osp.join(ROOT, 'docs', 'en', 'results.md')
SECTION = '### Benchmark protocol'


def markdown_tables(text: str) -> List[str]:
    """The pipe tables of a Markdown text, each as its lines joined by
    newlines, in their order."""
    tables, rows = [], []
    for line in text.split('\n') + ['']:
        if line.startswith('|'):
            rows.append(line.rstrip())
        elif rows:
            tables.append('\n'.join(rows))
            rows = []
    return tables


def section(text: str, heading: str) -> str:
    """The text from the line starting with ``heading`` up to the next
    heading of the same or a higher level."""
    start = text.index(heading)
    level = len(heading) - len(heading.lstrip('#'))
    nxt = re.compile(r'^#{1,%d} ' % level, re.MULTILINE)
    end = nxt.search(text, start + len(heading))
    return text[start:end.start() if end else len(text)]


def test_markdown_tables_splits_tables_apart():
    text = 'a\n| x | y |\n|---|---|\n| 1 | 2 |\n\ntext\n| z |\n|---|\n'
    assert markdown_tables(text) == ['| x | y |\n|---|---|\n| 1 | 2 |', '| z |\n|---|']


def test_section_stops_at_the_next_heading_of_its_level():
    text = '## A\n### B\nb\n#### C\nc\n### D\nd\n'
    assert section(text, '### B') == '### B\nb\n#### C\nc\n'


def test_readme_benchmark_tables_are_the_results_page_tables():
    with open(README, encoding='utf-8') as f:
        readme = section(f.read(), SECTION)
    with open(RESULTS, encoding='utf-8') as f:
        results = markdown_tables(f.read())
    tables = markdown_tables(readme)
    assert len(tables) >= 2, f'{README}: no benchmark tables under {SECTION!r}'
    for table in tables:
        header = table.split('\n', 1)[0]
        assert table in results, (f'{README}: the table starting {header!r} is not in {RESULTS} '
                                  'as it is in the README; change both copies together')
