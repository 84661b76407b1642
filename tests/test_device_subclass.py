"""Device subclasses: class-level decorators, per-implementation overloads, init hooks; reconnect."""

from __future__ import annotations

import os

import pytest

from belay_core import BelayError, ConnectionLost, Device, NoMatchingExecuterError


class Board(Device):
    calls: list[str]

    @Device.setup(autoinit=True)
    def setup():
        limit = 20

    @Device.setup
    def set_limit(threshold=10):
        limit = threshold * 2

    @Device.task
    def read_limit():
        return limit

    @Device.task(implementation="circuitpython")
    def which():
        return "circuitpython"

    @Device.task
    def which():  # noqa: F811 - the catch-all overload
        return "any"

    @Device.task(implementation="circuitpython")
    def only_circuitpython():
        return 1

    @Device.setup(ignore_errors=True)
    def tolerant():
        raise ValueError("ignored")

    def __pre_autoinit__(self):
        self.calls = ["pre"]
        self.limit_before = self("'limit' in globals()")

    def __post_init__(self):
        self.calls.append("post")


def test_subclass_autoinit_tasks_and_hooks(board):
    with Board(board) as device:
        assert device.read_limit() == 20
        assert device.calls == ["pre", "post"]
        assert device.limit_before is False  # __pre_autoinit__ runs before the autoinit setup
        device.set_limit(threshold=1)
        assert device.read_limit() == 2
        device.tolerant()  # ignore_errors in the class form too


def test_overloads_pick_the_connected_implementation(board):
    with Board(board) as device:
        assert device.which() == "any"
        with pytest.raises(NoMatchingExecuterError, match="only_circuitpython"):
            device.only_circuitpython()


def test_overload_after_catch_all_is_refused():
    with pytest.raises(BelayError, match="catch-all"):

        class Wrong(Device):
            @Device.task
            def f():
                return 1

            @Device.task(implementation="micropython")
            def f():  # noqa: F811
                return 2


def test_mixing_plain_and_executer_methods_is_refused():
    with pytest.raises(BelayError, match="plain attribute"):

        class Wrong(Device):
            def f(self):
                return 1

            @Device.task
            def f():  # noqa: F811
                return 2


def test_class_level_executer_of_an_unknown_name():
    with pytest.raises(AttributeError):
        Device.no_such_executer  # noqa: B018


def test_soft_reset_redeploys_tasks_and_reruns_autoinit(board):
    with Board(board) as device:
        device("scratch = 1")
        device.soft_reset()
        assert device("'scratch' in globals()") is False
        assert device.read_limit() == 20  # task redefined, autoinit setup replayed


def _kill_board(device: Device) -> None:
    os.killpg(device.session.transport.process.pid, 9)
    device.session.transport.process.wait()


def test_reconnect_replays_history_and_completes_the_call(board):
    with Board(board, attempts=1) as device:

        @device.task
        def triple(x):
            return 3 * x

        _kill_board(device)
        assert triple(2) == 6  # reconnected, redefined, then called
        assert device.read_limit() == 20


def test_without_attempts_a_lost_board_raises(board):
    with Device(board, attempts=0) as device:
        _kill_board(device)
        with pytest.raises(ConnectionLost):
            device("1")


def test_retry_calls_false_reconnects_and_restores_but_never_runs_the_call_twice(board):
    # attempts= alone runs the call in flight again after a reconnect (at least once, as the original
    # belay did); retry_calls=False restores the board's state and says the call may not have run.
    with Device(board, attempts=1, retry_calls=False) as device:

        @device.task
        def triple(x):
            return 3 * x

        _kill_board(device)
        with pytest.raises(ConnectionLost, match="may or may not have run"):
            triple(2)
        assert triple(2) == 6  # reconnected, and the task is defined again
