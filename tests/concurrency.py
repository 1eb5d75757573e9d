"""Running code in several threads at once, as concurrent requests or task workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(*actions: Callable[[], T]) -> list[T]:
    """Run each action in a thread of its own, all released together; return their results in order.

    Each thread has its own database connection and closes it when done, as Django leaves that
    to the thread. Whatever any thread raised is raised here once all have finished, so no
    failure goes unseen.
    """
    barrier = threading.Barrier(len(actions))
    results: list[T | None] = [None] * len(actions)
    errors: list[Exception] = []

    def run(index: int, action: Callable[[], T]) -> None:
        try:
            barrier.wait()
            results[index] = action()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise ExceptionGroup("a concurrent action failed", errors)
    return results  # type: ignore[return-value]
