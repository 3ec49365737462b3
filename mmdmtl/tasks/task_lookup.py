"""Finding registered tasks: :func:`get_task`, :func:`task_names`,
:func:`check_tasks` and :class:`TaskTable`, a live read-only view of one
property of every registered task (what the former side tables such as
``HEADLINE_METRICS`` held)."""
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Sequence, Tuple

from mmdmtl.registry import TASKS

from .base_task import BaseTask

_INSTANCES: Dict[str, BaseTask] = {}


def task_names() -> List[str]:
    """Names of every registered task, in registration order."""
    TASKS.import_from_location()
    return list(TASKS.module_dict)


def get_task(name: str) -> BaseTask:
    """The task object registered as ``name`` (one shared instance per
    registered class; re-registering with ``force=True`` replaces it).

    Raises:
        KeyError: naming the unknown task and the known ones.
        TypeError: the registered class is no :class:`BaseTask` or its
            ``name`` differs from the registered name.
    """
    cls = TASKS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise KeyError(f'Unknown task {name!r}; known tasks are {sorted(task_names())} '
                       '(register a new one in mmdmtl.registry.TASKS)')
    inst = _INSTANCES.get(name)
    if type(inst) is not cls:
        if not (isinstance(cls, type) and issubclass(cls, BaseTask)):
            raise TypeError(f'task {name!r} is registered as {cls!r}, which is not a '
                            'subclass of mmdmtl.tasks.BaseTask')
        inst = cls()
        if inst.name != name:
            raise TypeError(f'{cls.__name__} is registered as task {name!r} but its '
                            f'name attribute is {inst.name!r}; they must be equal')
        _INSTANCES[name] = inst
    return inst


def check_tasks(tasks: Iterable[str], available: Sequence[str] = None,
                where: str = '') -> Tuple[str, ...]:
    """Validate a list of task names.

    Args:
        tasks: Task names requested (e.g. by a config).
        available: If given, the tasks a dataset provides; every requested
            task must be among them.
        where: Text naming the caller, used in error messages.

    Returns:
        The tasks as a tuple, in the given order.

    Raises:
        KeyError: for an unknown or unavailable task, or duplicates.
    """
    tasks = tuple(tasks)
    prefix = f'{where}: ' if where else ''
    if len(tasks) == 0:
        raise KeyError(f'{prefix}at least one task is required')
    if len(set(tasks)) != len(tasks):
        raise KeyError(f'{prefix}duplicate task names in {list(tasks)}')
    known = task_names()
    for t in tasks:
        if t not in known:
            raise KeyError(f'{prefix}unknown task {t!r}; known tasks are {sorted(known)}')
        if available is not None and t not in available:
            raise KeyError(f'{prefix}task {t!r} is not provided by this '
                           f'dataset; it provides {list(available)}')
    return tasks


def task_of_key(key: str) -> str:
    """The task a loss or metric key belongs to (``'decode.loss_depth_init'``
    -> ``'depth'``); the longest registered name found in the key's last
    ``.``-part wins; the part itself when none is found."""
    name = key.split('.')[-1]
    found = [t for t in task_names() if t in name]
    return max(found, key=len) if found else name


class TaskTable(Mapping):
    """A read-only ``{task or alias: value}`` view over the registered tasks,
    computed when read (so tasks registered later appear).

    Args:
        entries: Maps a task object to its ``(key, value)`` pairs.
    """

    def __init__(self, entries: Callable[[BaseTask], Iterable[Tuple[str, object]]]) -> None:
        self._entries = entries

    def _table(self) -> Dict[str, object]:
        table: Dict[str, object] = {}
        for name in task_names():
            table.update(self._entries(get_task(name)))
        return table

    def __getitem__(self, key: str):
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return f'TaskTable({self._table()!r})'


#: ``{task: task object}`` of every registered task.
ALL_TASKS: Mapping[str, BaseTask] = TaskTable(lambda t: [(t.name, t)])
