"""Every error kglink raises on purpose is a KglinkError, and the CLI has one handler for them."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import kglink
from kglink.errors import KglinkError


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(kglink.__path__, "kglink.")
            if not m.name.startswith("kglink.synth")]


def test_every_error_class_has_the_one_base() -> None:
    loose = []
    for name in _modules():
        mod = importlib.import_module(name)
        for cname, cls in inspect.getmembers(mod, inspect.isclass):
            if (cls.__module__ == name and issubclass(cls, Exception) and not cname.startswith("_")
                    and not issubclass(cls, KglinkError)):
                loose.append(f"{name}.{cname}")
    assert not loose, f"errors without the KglinkError base: {loose}"


def test_the_base_adds_what_was_left_undone() -> None:
    from kglink.loaders.extract import ExtractError

    e = ExtractError("manifest.json is missing. Add it.").add("Nothing was loaded")
    assert str(e) == "manifest.json is missing. Add it. Nothing was loaded"
    assert e.exit_code == 2
