"""Every error kglink raises on purpose is a KglinkError, and the CLI has one handler for them."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil

import kglink
from kglink.errors import KglinkError


# Modules of an extra that is not installed cannot be imported (kglink.engines.spark
# without pyspark); they are checked where the extra is (CI installs every extra).
OPTIONAL = {"kglink.engines.spark": "pyspark"}


def _modules() -> list[str]:
    missing = tuple(pkg for pkg, dep in OPTIONAL.items() if importlib.util.find_spec(dep) is None)
    return [m.name for m in pkgutil.walk_packages(kglink.__path__, "kglink.")
            if not m.name.startswith("kglink.synth") and not m.name.startswith(missing or ("\0",))]


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
