"""Decorators on real boards: setup, task (generators too), thread, teardown; tracebacks at host lines."""

from __future__ import annotations

import gc
import inspect
import io
import time

import pytest

from belay_core import BelayError, Device, DeviceError, FeatureUnavailableError


def _line_of(function, text: str) -> int:
    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_task_returns_values(device):
    @device.task
    def add(a, b=2):
        return a + b

    assert add(1) == 3
    assert add(1, b=5) == 6
    assert device.task.add(3) == 5  # reachable through the executer


def test_task_keyword_form_and_register_false(device):
    @device.task(minify=False, register=False)
    def twice(x):
        # a comment that stays
        return 2 * x

    assert twice(4) == 8
    with pytest.raises(AttributeError):
        device.task.twice  # noqa: B018


def test_task_output_streams_before_the_result(device):
    out = io.StringIO()
    device.stream_out = out

    @device.task
    def chatty(n):
        for i in range(n):
            print("step", i)
        return n

    assert chatty(2) == 2
    assert out.getvalue() == "step 0\nstep 1\n"


def test_generator_task_streams_values(device):
    @device.task
    def count(n):
        for i in range(n):
            yield i * i

    assert list(count(5)) == [0, 1, 4, 9, 16]
    assert device("len(__belay_g)") == 0  # freed when exhausted


def test_generator_send_and_close(device):
    @device.task
    def echo():
        received = None
        try:
            while True:
                received = yield received
        finally:
            global closed_cleanly
            closed_cleanly = True

    gen = echo()
    assert next(gen) is None
    assert gen.send("hello") == "hello"
    assert gen.send(42) == 42
    gen.close()
    assert device("closed_cleanly") is True
    assert device("len(__belay_g)") == 0
    with pytest.raises(StopIteration):
        next(gen)


def test_abandoned_generator_is_freed(device):
    @device.task
    def forever():
        i = 0
        while True:
            yield i
            i += 1

    gen = forever()
    assert next(gen) == 0
    assert device("len(__belay_g)") == 1
    del gen
    gc.collect()
    assert device("len(__belay_g)") == 0  # the deferred free ran before this call


def test_task_exception_keeps_class_and_points_at_host_line(device):
    @device.task
    def fails(x):
        y = x + 1
        return y / 0

    with pytest.raises(ZeroDivisionError) as caught:
        fails(1)
    assert isinstance(caught.value, DeviceError)
    text = str(caught.value)
    assert f'File "{__file__}", line {_line_of(fails.__wrapped__, "y / 0")}, in fails' in text
    assert "return y / 0" in text


def test_builtin_exception_classes_are_kept(device):
    @device.task
    def lookup(key):
        return {"a": 1}[key]

    with pytest.raises(KeyError):
        lookup("missing")
    with pytest.raises(ValueError):
        device("int('x')")
    try:
        device("int('x')")
    except ValueError as exc:
        assert isinstance(exc, DeviceError)


def test_setup_runs_body_globally_with_arguments(device):
    @device.setup
    def configure(pin=5, name="led"):
        doubled = pin * 2

    configure()
    assert device("(pin, name, doubled)") == (5, "led", 10)
    configure(pin=1)
    assert device("doubled") == 2


def test_setup_autoinit_and_ignore_errors(device):
    @device.setup(autoinit=True)
    def ready():
        flag = "set"

    assert device("flag") == "set"

    @device.setup(ignore_errors=True)
    def broken():
        raise RuntimeError("ignored")

    broken()  # no exception


def test_setup_traceback_points_at_host_line(device):
    @device.setup
    def bad_setup(value=0):
        a = 1
        raise ValueError(value)

    with pytest.raises(ValueError) as caught:
        bad_setup(3)
    line = _line_of(bad_setup.__wrapped__, "raise ValueError")
    assert f'File "{__file__}", line {line}, in bad_setup' in str(caught.value)


def test_setup_rejects_generators(device):
    with pytest.raises(BelayError, match="generators"):

        @device.setup
        def gen():
            yield 1


def test_teardown_runs_on_close_in_order(board, tmp_path):
    device = Device(board)

    @device.teardown
    def first():
        global order
        order = ["first"]

    @device.teardown
    def second():
        order.append("second")
        print("order", order)

    out = io.StringIO()
    device.stream_out = out
    device.close()
    assert "order ['first', 'second']" in out.getvalue()


def test_teardown_takes_no_arguments(device):
    with pytest.raises(BelayError, match="no arguments"):

        @device.teardown
        def bad(x):
            pass


def test_thread_runs_while_the_host_keeps_calling():
    with Device("emu:unix") as device:

        @device.thread
        def ticker(period_ms):
            global ticks
            ticks = 0
            while ticks < 1000:
                ticks += 1
                time.sleep_ms(period_ms)

        @device.task
        def read():
            return ticks

        ticker(2)
        seen = [read() for _ in range(3) if time.sleep(0.05) is None]
        assert seen[0] < seen[-1]  # the board thread ran between the host's calls


def test_thread_with_keyword_arguments_stays_a_thread():
    with Device("emu:unix") as device:

        @device.thread(minify=False)
        def worker():
            global done
            done = True

        assert worker() is None
        time.sleep(0.1)
        assert device("done") is True


def test_thread_without_thread_support_names_the_firmware(board):
    if board == "emu:unix":
        board = "emu:wasm"
    with Device(board) as device:

        @device.thread
        def worker():
            pass

        with pytest.raises(FeatureUnavailableError, match=device.implementation.platform):
            worker()


def test_reserved_names_are_refused(device):
    with pytest.raises(BelayError, match="reserved"):

        @device.task
        def __belay_x():
            return 1


def test_return_time(device):
    @device.task(return_time=True)
    def value():
        return 7

    before = time.time()
    result, when = value()
    after = time.time()
    assert result == 7
    assert before - 1 < when.timestamp() < after + 1


def test_sync_time_and_offset(board):
    with Device(board, auto_sync_time=False) as device:
        with pytest.raises(BelayError, match="sync_time"):
            device.time_offset  # noqa: B018
        offset = device.sync_time(samples=5)
        assert offset == device.time_offset


TIMED_PLUGIN = """
import time
from belay_core import Executer, hookimpl
from belay_core.executers import TaskExecuter
from belay_core.records import ExecuterRecord


class TimedExecuter(TaskExecuter):
    '''Tasks that return (result, seconds on the host).'''

    def register(self, f, **options):
        call = super().register(f, **options)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = call(*args, **kwargs)
            return result, time.perf_counter() - start

        return timed


@hookimpl
def belay_register_executers():
    return [ExecuterRecord("timed", __name__ + ":TimedExecuter", "Timed tasks.")]
"""


def test_third_party_executer_plugin_adds_a_decorator(fake_plugins):
    fake_plugins("timed", TIMED_PLUGIN)
    with Device("emu:unix") as device:

        @device.timed
        def square(x):
            return x * x

        result, seconds = square(7)
        assert result == 49 and seconds > 0
        assert device.timed.square(3)[0] == 9

        class Timed(Device):
            @Device.timed
            def cube(x):
                return x**3

    with Timed("emu:unix") as device:
        assert device.cube(2)[0] == 8


def test_thread_output_and_traceback_reach_the_host_mapped():
    out = io.StringIO()
    with Device("emu:unix", stream_out=out) as device:

        @device.thread
        def noisy():
            for i in range(3):
                print("thread says", i)
                time.sleep_ms(20)
            raise ValueError("thread failed")

        @device.task
        def ping():
            return "pong"

        noisy()
        for _ in range(30):  # keep calling while the thread prints: the protocol must stay intact
            assert ping() == "pong"
            time.sleep(0.01)
        device("time.sleep_ms(100)")
    text = out.getvalue()
    assert "thread says 2" in text
    line = _line_of(noisy.__wrapped__, 'raise ValueError("thread failed")')
    assert f'File "{__file__}", line {line}, in noisy' in text
    assert "ValueError: thread failed" in text


def _ticker(device):
    @device.thread
    def ticker(n):
        for i in range(n):
            print("tick", i)
            time.sleep_ms(1)

    return ticker


def test_a_printing_thread_never_breaks_a_call_or_its_own_output():
    # A board thread prints between the raw REPL's markers: before the window size of a raw paste,
    # after a result frame, in the error part of a call that raised nothing, before the prompt. The
    # thread prints a known number of lines; calls go on until the last has arrived, whatever the speed.
    out = io.StringIO()
    count = 300
    with Device("emu:unix", stream_out=out) as device:
        ticker = _ticker(device)

        @device.task
        def echo(x):
            return x

        ticker(count)
        calls = 0
        while calls < 800 or f"tick {count - 1}\n" not in out.getvalue():
            assert echo(calls) == calls
            calls += 1
    assert out.getvalue().splitlines() == [f"tick {i}" for i in range(count)]


def test_a_printing_thread_never_hides_the_call_s_own_exception():
    # The thread's text may land inside the traceback (the board interleaves them too), but the call
    # always fails, with its own traceback.
    with Device("emu:unix", stream_out=None) as device:
        ticker = _ticker(device)

        @device.task
        def fail(x):
            raise KeyError(x * 1000 + 7)

        ticker(100000)
        for i in range(200):
            with pytest.raises(DeviceError) as caught:
                fail(i)
            assert "Traceback (most recent call last):" in str(caught.value)
            assert "KeyError" in str(caught.value)
            assert str(i * 1000 + 7) in str(caught.value)


MARKING_MINIFIER = """
from belay_core import hookimpl
from belay_core.records import MinifierRecord


def mark(source):
    return source.rstrip("\\n") + "  # marked\\n"


@hookimpl
def belay_register_minifiers():
    return [MinifierRecord("marker", __name__ + ":mark", "Appends a comment.")]
"""


def test_minifier_chosen_by_name_per_decorator_and_call(fake_plugins):
    fake_plugins("marker", MARKING_MINIFIER)
    with Device("emu:unix") as device:
        sent: list[str] = []
        real = device.run_statements

        def spy(code, **kwargs):
            sent.append(code)
            return real(code, **kwargs)

        device.run_statements = spy

        @device.task(minify="marker")
        def marked():
            return 1  # gone?

        @device.task(minify=False)
        def kept():
            return 2  # kept comment

        @device.task
        def default():
            return 3  # dropped

        assert (marked(), kept(), default()) == (1, 2, 3)
        assert sent[0].endswith("# marked\n") and "# gone?" in sent[0]
        assert "# kept comment" in sent[1]
        assert "#" not in sent[2]
        device("y = 1  # marked call", minify="marker")
        assert sent[3].endswith("# marked\n")
