"""Tests that kill their own process: an abort and a segmentation fault."""
import os
import signal


def test_fine():
    assert True


def test_abort():
    os.abort()


def test_segfault():
    os.kill(os.getpid(), signal.SIGSEGV)
