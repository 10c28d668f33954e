"""Modules whose code runs only when something reads one of their names.

fpdf2 imports, whole and at once, parts of fontTools and Pillow that a document of text,
tables and pictures never runs (variable-font instancing, the EXIF tag tables, colour
management): about an eighth of `import fpdf`. `defer(name)` puts a stand-in for such a module
into `sys.modules` before fpdf2 is imported; the stand-in is the module object itself, with
its spec, file and (for a package) search path already set, and it runs the module's code in
place the first time a name is read that it does not have yet. So whatever fpdf2 (or anyone)
later needs of it is there, and `import` statements that only bind the module (`from
fontTools.varLib import instancer`) cost nothing.

What a stand-in does differently from a module imported at once:
- A package's own `__init__` waits while its submodules are imported (the import system
  needs only the search path), and reading the name of a submodule that is not loaded yet
  imports that submodule alone: `from fontTools.varLib import varStore` loads varStore.py
  but not the rest of fontTools.varLib.
- So a deferred package fits only if the submodules that load before it import no name
  from its `__init__` (that would run the package in the middle of their own import: a
  circular import, which fails loudly here).
- Code that runs at import for its side effects (a plugin that registers itself) would not
  run until someone reads a name: such modules must not be deferred.

importlib.util.LazyLoader does the same for plain modules, but its stand-in loads on any
attribute read, the search path of a package included, so a package whose submodules are
imported (the case here) would load at once.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types

_LOCK = threading.RLock()


class _Deferred(types.ModuleType):
    """A module not run yet; `__getattr__` is called only for names it does not have."""

    def __getattr__(self, name: str) -> object:
        with _LOCK:
            if type(self) is not _Deferred:  # another thread ran it meanwhile
                return getattr(self, name)
            state = self.__dict__
            if state.get("_deferred_running") or (name == "__path__" and "__path__" not in state):
                # A partly run module lacks what it has not defined yet; a plain module has
                # no search path (the import system asks).
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
            path = state.get("__path__")
            if path is not None and not name.startswith("__"):
                sub = f"{self.__name__}.{name}"
                if sub in sys.modules or importlib.machinery.PathFinder.find_spec(sub, path):
                    return importlib.import_module(sub)
            before = dict(state)
            state["_deferred_running"] = True
            try:
                self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
            except BaseException as exc:
                # Back to a stand-in that has run nothing (the next read tries again), and
                # loudly: hasattr(), which the import system calls, takes an AttributeError
                # for a missing name and would leave a half-run module behind.
                state.clear()
                state.update(before)
                if isinstance(exc, AttributeError):
                    raise ImportError(
                        f"deferred module {self.__name__!r} failed to run: {exc}",
                        name=self.__name__,
                    ) from exc
                raise
            del state["_deferred_running"]
            self.__class__ = types.ModuleType  # an ordinary module from now on
        return getattr(self, name)


def defer(name: str) -> None:
    """Put a stand-in for module `name` into sys.modules (see the module's docstring), unless
    it is imported already or cannot be found. Defer a package before its submodules."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)  # imports the parent packages, not `name`
    except ImportError:  # a parent package is missing
        return
    if name in sys.modules:  # a parent package imported it
        return
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    module = _Deferred(name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__cached__ = spec.cached  # type: ignore[attr-defined]
    if spec.submodule_search_locations is not None:
        module.__path__ = list(spec.submodule_search_locations)
        module.__package__ = name
    else:
        module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def is_deferred(name: str) -> bool:
    """Whether module `name` is a stand-in whose code has not run yet."""
    return type(sys.modules.get(name)) is _Deferred
