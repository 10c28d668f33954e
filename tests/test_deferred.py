"""crmcli/deferred.py: a deferred module runs its code the first time one of its names is read,
never before, and then is the module an ordinary import would have made; a deferred package
lets its submodules be imported without running its own code."""

from __future__ import annotations

import importlib
import sys
import textwrap
import types

import pytest

from crmcli.deferred import defer, is_deferred

FILES = {
    "dprobe_log.py": "ran = []\n",
    "dplain.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        VALUE = 42
        def double(x):
            return 2 * x
    """,
    "dbroken.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        raise RuntimeError("broken at import")
    """,
    "dpkg/__init__.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        from dpkg import helper
        FROM_INIT = helper.HELP + 1
    """,
    "dpkg/helper.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        HELP = 1
    """,
    "dpkg/leaf.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        LEAF = "leaf"
    """,
    "dcycle/__init__.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        NAME = "cycle"
        from dcycle import first
        FIRST = first.FIRST
    """,
    "dcycle/first.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        from dcycle import NAME
        FIRST = NAME + "!"
    """,
    "dpkg/uses_init.py": """
        import dprobe_log
        dprobe_log.ran.append(__name__)
        from dpkg import FROM_INIT
    """,
}


@pytest.fixture
def ran(tmp_path, monkeypatch):
    """The modules above on sys.path; the list of those whose code ran, in order."""
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield importlib.import_module("dprobe_log").ran
    ours = {path.split("/")[0].removesuffix(".py") for path in FILES}
    for name in [name for name in sys.modules if name.split(".")[0] in ours]:
        del sys.modules[name]


def test_a_deferred_module_runs_when_a_name_is_read_and_only_then(ran):
    defer("dplain")
    import dplain  # binding the module reads nothing

    assert ran == [] and is_deferred("dplain")
    assert dplain.VALUE == 42 and dplain.double(4) == 8
    assert ran == ["dplain"] and not is_deferred("dplain")
    assert type(dplain) is types.ModuleType and sys.modules["dplain"] is dplain
    assert dplain.__file__.endswith("dplain.py") and dplain.__spec__.name == "dplain"
    assert dplain.VALUE == 42 and ran == ["dplain"]  # once
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        dplain.missing  # noqa: B018


def test_importing_a_name_from_a_deferred_module_runs_it(ran):
    defer("dplain")
    from dplain import double

    assert double(3) == 6 and ran == ["dplain"]


def test_a_deferred_package_lets_its_submodules_load_alone(ran):
    defer("dpkg")
    from dpkg.leaf import LEAF  # the import system reads only the package's search path

    assert LEAF == "leaf" and ran == ["dpkg.leaf"] and is_deferred("dpkg")
    from dpkg import helper  # a submodule's name: that submodule alone

    assert helper.HELP == 1 and ran == ["dpkg.leaf", "dpkg.helper"] and is_deferred("dpkg")
    import dpkg

    assert dpkg.FROM_INIT == 2  # a name of the package's own: its code runs now
    assert ran == ["dpkg.leaf", "dpkg.helper", "dpkg"] and not is_deferred("dpkg")
    assert dpkg.helper is helper and dpkg.leaf is sys.modules["dpkg.leaf"]


def test_a_submodule_that_needs_its_package_runs_the_package_first(ran):
    defer("dpkg")
    from dpkg import uses_init

    assert uses_init.FROM_INIT == 2
    assert ran == ["dpkg.uses_init", "dpkg", "dpkg.helper"] and not is_deferred("dpkg")


def test_a_deferred_submodule_under_a_deferred_package(ran):
    defer("dpkg")
    defer("dpkg.leaf")
    from dpkg import leaf

    assert ran == [] and is_deferred("dpkg") and is_deferred("dpkg.leaf")
    assert leaf.LEAF == "leaf" and ran == ["dpkg.leaf"] and is_deferred("dpkg")


def test_a_module_that_fails_fails_where_it_is_first_used(ran):
    defer("dbroken")
    import dbroken

    with pytest.raises(RuntimeError, match="broken at import"):
        dbroken.anything  # noqa: B018
    assert ran == ["dbroken"]


def test_nothing_to_defer(ran):
    importlib.import_module("dplain")
    defer("dplain")  # imported already: left as it is
    assert type(sys.modules["dplain"]) is types.ModuleType and ran == ["dplain"]
    defer("dpkg.helper")  # importing its package (to find it) imported it: left as it is
    assert not is_deferred("dpkg.helper") and ran == ["dplain", "dpkg", "dpkg.helper"]
    defer("dnowhere")  # not installed: nothing happens, an import fails as it would
    defer("dnowhere.sub")
    assert "dnowhere" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dnowhere")


def test_a_package_run_after_a_submodule_that_needs_it_fails_loudly(ran):
    """dcycle.first imports a name of dcycle, whose __init__ reads one of dcycle.first: fine in
    the usual order, a circular import when the submodule loads first. The AttributeError it
    makes becomes an ImportError: hasattr() (which the import system calls) would take it for
    a missing name and go on with a half-run package. The stand-in is left as it was."""
    defer("dcycle")
    with pytest.raises(ImportError, match="deferred module 'dcycle' failed to run"):
        importlib.import_module("dcycle.first")
    assert is_deferred("dcycle") and "NAME" not in vars(sys.modules["dcycle"])
