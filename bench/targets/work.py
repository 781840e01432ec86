"""work.py - the work unit of the bench targets (workers.py, pool.py): a short
loop a few Python calls deep, so stacks are not trivially shallow; one unit
is a few microseconds."""

DEPTH = 8


def leaf():
    x = 0
    for i in range(40):
        x += i * i
    return x


def nest(d):
    if d:
        return nest(d - 1)
    return leaf()
