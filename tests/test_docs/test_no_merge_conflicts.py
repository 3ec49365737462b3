"""No tracked file carries unresolved merge-conflict markers."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r'^(<{7} |>{7} |={7}$)')
TEXT_SUFFIXES = {'.py', '.md', '.sh', '.txt', '.yaml', '.yml', '.cfg', '.toml', '.json', ''}


def _tracked_text_files():
    try:
        out = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    return [ROOT / p for p in out if Path(p).suffix in TEXT_SUFFIXES and (ROOT / p).is_file()]


def find_conflict_markers(path: Path):
    """(line number, line) of every conflict marker in ``path``."""
    hits = []
    try:
        lines = path.read_text(encoding='utf-8').splitlines()
    except UnicodeDecodeError:
        return hits
    for n, line in enumerate(lines, 1):
        if MARKER.match(line):
            hits.append((n, line))
    return hits


def test_detector_finds_markers(tmp_path):
    f = tmp_path / 'x.md'
    f.write_text('a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> branch\n')
    assert [n for n, _ in find_conflict_markers(f)] == [2, 4, 6]
    f.write_text('a\n======= not a marker\n```\n<<<<<<<x\n')
    assert find_conflict_markers(f) == []


def test_no_conflict_markers_in_tracked_files():
    bad = {str(p.relative_to(ROOT)): find_conflict_markers(p) for p in _tracked_text_files()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f'unresolved merge conflicts: {bad}'
