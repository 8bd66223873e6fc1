"""Public modules declare ``__all__`` completely, and async and sync expose the same names."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import bitmapist_async
import bitmapist_async.sync

PUBLIC_MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(bitmapist_async.__path__, "bitmapist_async.")
    if not any(part.startswith("_") for part in name.split("."))
)
PUBLIC_MODULES = ["bitmapist_async", *PUBLIC_MODULES]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_every_public_name(name: str) -> None:
    module = importlib.import_module(name)
    declared = module.__all__
    assert isinstance(declared, tuple)
    assert len(set(declared)) == len(declared)
    for item in declared:
        assert hasattr(module, item), item
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and not isinstance(v, types.ModuleType)
        and getattr(v, "__module__", name) != "__future__"
        and n != "annotations"
    }
    assert public <= set(declared), sorted(public - set(declared))


def test_async_and_sync_share_names() -> None:
    assert set(bitmapist_async.__all__) == set(bitmapist_async.sync.__all__)


def test_sync_objects_are_sync() -> None:
    import inspect

    assert inspect.iscoroutinefunction(bitmapist_async.Bitmapist.mark_event)
    assert not inspect.iscoroutinefunction(bitmapist_async.sync.Bitmapist.mark_event)
    assert hasattr(bitmapist_async.sync.Expression, "__len__")
    assert not hasattr(bitmapist_async.Expression, "__len__")
