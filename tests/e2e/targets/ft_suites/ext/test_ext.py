"""Imports gilscope_gilext, an extension module that does not declare
Py_mod_gil (built by test_ft_check.py, found through PYTHONPATH)."""


def test_uses_extension():
    import gilscope_gilext
    assert gilscope_gilext.__doc__


def test_plain():
    assert True
