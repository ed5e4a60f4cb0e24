"""Deprecated: datasets are registered now (`zoo.get_dataset`, `zoo.list_datasets`, zoo/datasets/).

Only `DATASETS` is left, a read-only view of the registry, until zoo/demo/handlers.py moves to
`zoo.get_dataset(name).label_names`; delete this file then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .datasets import Dataset, get_dataset, list_datasets


class _RegisteredDatasets(Mapping):
    def __getitem__(self, name: str) -> Dataset:
        return get_dataset(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list_datasets())

    def __len__(self) -> int:
        return len(list_datasets())


DATASETS: Mapping[str, Dataset] = _RegisteredDatasets()
