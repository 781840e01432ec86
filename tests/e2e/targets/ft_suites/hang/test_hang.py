"""A test that never finishes: it waits for an event nobody sets, while a
helper thread waits too."""
import threading


def test_fine():
    assert True


def test_waits_forever():
    never = threading.Event()
    helper = threading.Thread(target=never.wait, name="helper", daemon=True)
    helper.start()
    never.wait()
