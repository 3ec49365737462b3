"""Suite-wide policy: a test may skip only for what cannot exist on the machine.

Everything a test needs that the project can ship (data, split files, configs)
or install (``bash tools/install.sh --tests``) must be there, so a skip for a
missing file or package would hide a broken checkout. Skips are accepted only
when their reason matches :data:`ALLOWED_SKIP_REASONS` (no CUDA / too few GPUs,
an unsupported platform). Any other skip is listed at the end of the run and
makes the run fail (exit status 1), so ``python -m pytest tests`` (the README
test command that ``.ci/run`` calls) cannot pass silently. Set
``MMDMTL_ALLOW_SKIPS=1`` to report such skips without failing.
"""
import os
import re
from typing import List, Tuple

import pytest

#: Skip reasons for what truly cannot exist on the machine. Each skip must
#: say why; an empty or other reason is a failure.
ALLOWED_SKIP_REASONS = (
    r'\bCUDA\b',
    r'\bGPUs?\b',
    r'\bplatform\b|\bWindows\b|\bmacOS\b',
)

_disallowed: List[Tuple[str, str]] = []


def skip_reason_allowed(reason: str) -> bool:
    """Whether a skip with ``reason`` is acceptable (see the module doc)."""
    return any(re.search(p, reason or '', re.IGNORECASE) for p in ALLOWED_SKIP_REASONS)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr or '')
    return reason[len('Skipped: '):] if reason.startswith('Skipped: ') else reason


def pytest_runtest_logreport(report) -> None:
    """Record skips whose reason is not allowed (xfails are not skips)."""
    if report.skipped and not hasattr(report, 'wasxfail'):
        reason = _skip_reason(report)
        if not skip_reason_allowed(reason):
            _disallowed.append((report.nodeid, reason))


def pytest_collectreport(report) -> None:
    """Module-level skips (``pytest.importorskip`` at import) count too."""
    if report.skipped:
        reason = _skip_reason(report)
        if not skip_reason_allowed(reason):
            _disallowed.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter) -> None:
    """List the skips that are not allowed."""
    if _disallowed:
        terminalreporter.section('skips that are not allowed', red=True)
        for nodeid, reason in _disallowed:
            terminalreporter.line(f'{nodeid}: {reason}')
        terminalreporter.line(
            'Only skips for what cannot exist on this machine (CUDA, GPUs, platform) '
            'are allowed; ship or install what the others need (bash tools/install.sh '
            '--tests), or set MMDMTL_ALLOW_SKIPS=1.')


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail an otherwise green run that has disallowed skips."""
    if _disallowed and exitstatus == pytest.ExitCode.OK \
            and os.environ.get('MMDMTL_ALLOW_SKIPS') != '1':
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
