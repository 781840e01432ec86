"""Imports gilscope_testext, which test_ft_check.py installs (on PYTHONPATH)
built for a default build only: a free-threaded interpreter does not load a
file of another ABI tag, so the import fails with ModuleNotFoundError."""


def test_imports_default_abi_module():
    import gilscope_testext
    assert gilscope_testext


def test_plain():
    assert True
