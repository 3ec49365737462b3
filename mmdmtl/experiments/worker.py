"""Train and test one run in its own process; run many, ``jobs`` at a time.

Entry point of a run (what :func:`execute_runs` starts)::

    python -m mmdmtl.experiments.worker RUN_CONFIG OUT_JSON

The device is mmengine's choice: CUDA when it is available, else the CPU,
so the same command runs on a laptop and on a GPU machine.
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Optional, Sequence, Tuple

#: prefix of the progress lines
LOG_PREFIX = '[run_experiments]'


def best_checkpoint(runner) -> Optional[str]:
    """The checkpoint ``CheckpointHook(save_best=...)`` kept during this
    training (``None`` when none was saved)."""
    path = runner.message_hub.get_info('best_ckpt')
    return path if path and osp.isfile(path) else None


def worker(cfg_path: str, out_json: str) -> Dict[str, float]:
    """Train then test one config; dump the test metrics to ``out_json``.

    With ``experiment = dict(test_checkpoint='best')`` in the config, the
    test uses the best validation checkpoint (``save_best``) instead of the
    last weights; its iteration is recorded as ``checkpoint_iter``.

    Raises:
        FileNotFoundError: ``test_checkpoint='best'`` but no best checkpoint
            was saved (no validation ran, or ``save_best`` is not set).
    """
    import numpy as np
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS
    cfg = Config.fromfile(cfg_path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    runner = RUNNERS.build(cfg)
    t0 = time.time()
    runner.train()
    train_s = time.time() - t0
    extra: Dict[str, float] = {}
    if (cfg.get('experiment') or {}).get('test_checkpoint', 'last') == 'best':
        path = best_checkpoint(runner)
        if path is None:
            raise FileNotFoundError(
                f'{cfg_path}: test_checkpoint=best, but training saved no best '
                f'checkpoint in {cfg.work_dir} (needs validation during training and '
                'default_hooks.checkpoint.save_best)')
        runner.load_checkpoint(path)
        found = re.search(r'iter_(\d+)', osp.basename(path))
        extra['checkpoint_iter'] = float(found.group(1)) if found else float('nan')
    metrics = runner.test()
    metrics = {k: float(v) for k, v in metrics.items()
               if isinstance(v, (int, float, np.floating))}
    metrics['train_seconds'] = train_s
    metrics.update(extra)
    with open(out_json, 'w') as f:
        json.dump(metrics, f, indent=1)
    return metrics


def execute_runs(todo: Sequence[Tuple[str, str, str]], jobs: int) -> None:
    """Run the prepared runs as subprocesses, ``jobs`` at a time, each with
    ``cpu_count // jobs`` threads; print progress; raise naming the log of
    the first failed run (after the others finished)."""
    if not todo:
        return
    jobs = max(1, min(int(jobs), len(todo)))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MPLBACKEND='Agg')
    t_start = time.time()
    done = [0]

    def one(run: Tuple[str, str, str]) -> Optional[str]:
        name, cfg_path, out_json = run
        log_path = osp.join(osp.dirname(cfg_path), 'run.log')
        t0 = time.time()
        with open(log_path, 'w') as log:
            proc = subprocess.run(
                [sys.executable, '-m', 'mmdmtl.experiments.worker', cfg_path, out_json],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        done[0] += 1
        status = 'done' if proc.returncode == 0 else f'FAILED (exit {proc.returncode})'
        print(f'{LOG_PREFIX} {done[0]}/{len(todo)} {name} {status} in '
              f'{time.time() - t0:.0f}s (total {(time.time() - t_start) / 60:.1f} min)',
              flush=True)
        return None if proc.returncode == 0 else f'run {name} failed; see {log_path}'

    print(f'{LOG_PREFIX} {len(todo)} runs to do, {jobs} at a time, '
          f'{threads} thread(s) each', flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        errors = [e for e in pool.map(one, todo) if e]
    if errors:
        raise RuntimeError('; '.join(errors))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit('usage: python -m mmdmtl.experiments.worker RUN_CONFIG OUT_JSON')
    worker(sys.argv[1], sys.argv[2])
