"""One memoising helper for every cache the zoo and the app share across users.

`Memo` is a bounded, thread-safe mapping from a key to a value built on first use: the least
recently used entry goes first when it is full, and a value is built once even when many threads
ask for it at the same time (the others wait for that build instead of repeating it). Values are
shared between users, so treat them as read-only.

    encoded = Memo(capacity=32)
    enc = encoded.get(name, lambda: encode_examples(name))

    @memoize(capacity=64)
    def gallery(dataset: str) -> list: ...
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

V = TypeVar("V")


class Memo:
    """At most `capacity` values, least recently used out first; each built once per key."""

    def __init__(self, capacity: int = 64):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:  # one build per key; the others wait here, then find it built
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = build()
            except BaseException:
                with self._lock:
                    self._building.pop(key, None)
                raise
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.capacity:
                    self._values.popitem(last=False)
                self._building.pop(key, None)
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def memoize(capacity: int = 64):
    """Decorate a function of hashable arguments with a `Memo` (its `.memo` attribute)."""

    def decorator(fn):
        memo = Memo(capacity)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            return memo.get(key, lambda: fn(*args, **kwargs))

        wrapper.memo = memo
        return wrapper

    return decorator
