"""`ProxyObject` against real MicroPython: every operation on each emulated board."""

from __future__ import annotations

import copy
import gc

import pytest

from belay_core import Device
from belay_core.errors import BelayError, DeviceError
from belay_core.proxy import ProxyObject

THINGS = """\
class Thing:
 def __init__(self, x=1):
  self.x = x
  self.items = [1, 2, 3]
 def add(self, a, b=10):
  return self.x + a + b
 def child(self):
  return Thing(self.x + 1)
 def count(self, n):
  for i in range(n):
   seen.append(i)
   yield i * self.x
 def __add__(self, other):
  return Thing(self.x + (other.x if isinstance(other, Thing) else other))
 def __sub__(self, other):
  return self.x - other
 def __neg__(self):
  return -self.x
 def __eq__(self, other):
  return isinstance(other, Thing) and other.x == self.x
 def __lt__(self, other):
  return self.x < (other.x if isinstance(other, Thing) else other)
 def __hash__(self):
  return self.x
 def __len__(self):
  return 7
 def __getitem__(self, key):
  return key
class Big(int):
 pass
def same(a, b):
 return a is b
seen = []
thing = Thing()
other = Thing(2)
big = Big(5)
data = [10, 20, 30, 40]
table = {'a': 1}
"""


def _setup(device: Device) -> None:
    device(THINGS)


def _kept(device: Device) -> int:
    return device("len(__belay_o)")


# --------------------------------------------------------------------------------------------------
# Making proxies
# --------------------------------------------------------------------------------------------------


def test_proxy_of_a_name_follows_the_board_global(device):
    _setup(device)
    thing = device.proxy("thing")
    assert isinstance(thing, ProxyObject)
    assert thing.__belay_ref__() == "thing"
    assert _kept(device) == 0
    device("thing = Thing(9)")
    assert thing.x == 9


def test_proxy_of_an_expression_is_evaluated_once_and_kept(device):
    _setup(device)
    made = device.proxy("Thing(seen.append(1) or 4)")
    assert made.__belay_ref__().startswith("__belay_o[")
    assert made.x == 4
    assert made.x == 4
    assert device("len(seen)") == 1
    assert _kept(device) == 1


def test_proxy_of_a_plain_value_is_still_a_proxy(device):
    answer = device.proxy("40 + 2")
    assert isinstance(answer, ProxyObject)
    assert answer == 42
    assert answer + 1 == 43
    assert int(answer) == 42


def test_proxy_of_an_import(device):
    sys_proxy = device.proxy("import sys")
    assert sys_proxy.__belay_ref__() == "sys"
    assert sys_proxy.platform == device.implementation.platform


def test_proxy_of_two_imports_is_a_tuple(device):
    sys_proxy, gc_proxy = device.proxy("import sys, gc")
    assert sys_proxy.__belay_ref__() == "sys"
    assert gc_proxy.__belay_ref__() == "gc"
    assert callable(gc_proxy.collect)


def test_non_plain_results_come_back_as_proxies(device):
    _setup(device)
    thing = device.proxy("thing")
    child = thing.child()
    assert isinstance(child, ProxyObject)
    assert child.x == 2
    assert thing.items == [1, 2, 3]  # lists are plain values: a copy


# --------------------------------------------------------------------------------------------------
# Attributes
# --------------------------------------------------------------------------------------------------


def test_attribute_get_set_delete(device):
    _setup(device)
    thing = device.proxy("thing")
    assert thing.x == 1
    thing.x = 5
    assert device("thing.x") == 5
    thing.label = "led"
    assert device("thing.label") == "led"
    del thing.label
    assert not device("hasattr(thing, 'label')")


def test_attribute_set_to_a_proxy_passes_by_reference(device):
    _setup(device)
    thing = device.proxy("thing")
    thing.friend = device.proxy("other")
    assert device("thing.friend is other")


def test_missing_attribute_is_attribute_error_and_device_error(device):
    _setup(device)
    thing = device.proxy("thing")
    with pytest.raises(AttributeError) as info:
        thing.missing  # noqa: B018
    assert isinstance(info.value, DeviceError)
    assert not hasattr(thing, "missing")


def test_host_attributes_never_reach_the_board(device):
    _setup(device)
    thing = device.proxy("thing")
    trips = device.round_trips
    assert thing._belay_ref == "thing"
    with pytest.raises(AttributeError):
        thing.__array_interface__  # noqa: B018
    with pytest.raises(AttributeError):
        thing._belay_other = 1
    with pytest.raises(AttributeError):
        del thing._belay_ref
    assert device.round_trips == trips


def test_sending_a_host_object_is_a_type_error(device):
    _setup(device)
    thing = device.proxy("thing")
    with pytest.raises(TypeError, match="cannot send"):
        thing.x = object()
    with pytest.raises(TypeError, match="cannot send"):
        thing.add(object())


def test_dir_lists_the_board_attributes(device):
    _setup(device)
    names = dir(device.proxy("thing"))
    assert "add" in names
    assert "child" in names
    assert names == sorted(names)


# --------------------------------------------------------------------------------------------------
# Items and containers
# --------------------------------------------------------------------------------------------------


def test_items_get_set_delete(device):
    _setup(device)
    data = device.proxy("data")
    assert data[0] == 10
    assert data[-1] == 40
    data[1] = 21
    del data[0]
    assert device("data") == [21, 30, 40]
    table = device.proxy("table")
    table["b"] = 2
    assert table["b"] == 2
    del table["a"]
    assert device("table") == {"b": 2}
    with pytest.raises(KeyError):
        table["zz"]


def test_slices_get_set_delete(device):
    _setup(device)
    data = device.proxy("data")
    assert data[1:3] == [20, 30]
    assert data[:2] == [10, 20]
    assert data[::2] == [10, 30]
    data[0:2] = [1, 2]
    assert device("data") == [1, 2, 30, 40]
    del data[2:]
    assert device("data") == [1, 2]


def test_item_key_may_be_a_proxy(device):
    _setup(device)
    data = device.proxy("data")
    index = device.proxy("1 + 1")
    assert data[index] == 30


def test_len_and_in(device):
    _setup(device)
    data = device.proxy("data")
    assert len(data) == 4
    assert 20 in data
    assert 99 not in data
    assert "a" in device.proxy("table")
    assert len(device.proxy("thing")) == 7


def test_kept_container_is_mutated_in_place(device):
    _setup(device)
    items = device.proxy("thing.items")
    items.append(4)
    items[0] = 0
    assert device("thing.items") == [0, 2, 3, 4]


# --------------------------------------------------------------------------------------------------
# Comparisons, hashing, text
# --------------------------------------------------------------------------------------------------


def test_comparisons_with_plain_values_and_proxies(device):
    _setup(device)
    thing, other = device.proxy("thing"), device.proxy("other")
    assert thing != other
    assert thing == device.proxy("Thing(1)")
    assert thing < other
    assert thing < 2
    assert not thing < 1
    data = device.proxy("data")
    assert data == [10, 20, 30, 40]
    assert data <= [10, 20, 30, 40]
    assert data > [10]
    assert data >= [10, 20]


def test_hash_str_repr(device):
    _setup(device)
    thing = device.proxy("thing")
    assert hash(thing) == 1
    assert str(device.proxy("data")) == "[10, 20, 30, 40]"
    text = repr(thing)
    assert text.startswith("<ProxyObject <Thing object")  # the original belay's form
    assert repr(device.proxy("data")) == "<ProxyObject [10, 20, 30, 40]>"


def test_repr_of_a_closed_device_does_not_raise(board):
    with Device(board, timeout=30) as device:
        thing = device.proxy("sys")
    assert "unavailable" in repr(thing)


def test_format_with_a_spec(device):
    ratio = device.proxy("2.5")
    assert f"{ratio:.2f}" == "2.50"
    assert f"{ratio}" == "2.5"


# --------------------------------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------------------------------


def test_calls_with_args_and_kwargs(device):
    _setup(device)
    thing = device.proxy("thing")
    assert thing.add(2) == 13
    assert thing.add(2, b=3) == 6
    assert thing.add(a=1, b=1) == 3


def test_proxies_pass_by_reference_into_calls(device):
    _setup(device)
    same = device.proxy("same")
    thing = device.proxy("thing")
    assert same(thing, device.proxy("thing")) is True
    assert same([thing], [thing]) is False  # two lists, one thing
    assert device.proxy("lambda a: a[0] is thing")([thing]) is True


def test_proxies_pass_by_reference_into_tasks(device):
    _setup(device)

    @device.task
    def bump(target, by=1):
        target.x += by
        return target.x

    kept = device.proxy("Thing(10)")
    assert bump(kept) == 11
    assert bump(kept, by=kept.x) == 22
    assert kept.x == 22
    assert bump(device.proxy("thing")) == 2


def test_task_with_proxy_true_returns_a_usable_proxy(device):
    _setup(device)

    @device.task(proxy=True)
    def make(x):
        return Thing(x)

    made = make(3)
    assert isinstance(made, ProxyObject)
    assert made.add(0, b=0) == 3


# --------------------------------------------------------------------------------------------------
# Iteration
# --------------------------------------------------------------------------------------------------


def test_iterate_a_board_list(device):
    _setup(device)
    assert list(device.proxy("data")) == [10, 20, 30, 40]
    assert [k for k in device.proxy("table")] == ["a"]


def test_iterate_a_method_returning_a_generator(device):
    _setup(device)
    thing = device.proxy("other")
    assert [v for v in thing.count(3)] == [0, 2, 4]


def test_iteration_is_lazy(device):
    _setup(device)
    thing = device.proxy("thing")
    steps = iter(thing.count(100))
    assert next(steps) == 0
    assert next(steps) == 1
    assert device("seen") == [0, 1]
    del steps
    gc.collect()
    assert device("len(__belay_g)") == 0


def test_iteration_items_can_be_proxies(device):
    _setup(device)
    things = device.proxy("[thing, other]")
    got = list(things)
    assert all(isinstance(t, ProxyObject) for t in got)
    assert [t.x for t in got] == [1, 2]


def test_next_on_a_board_generator(device):
    _setup(device)
    gen = device.proxy("thing.count(2)")
    assert next(gen) == 0
    assert next(gen) == 1
    with pytest.raises(StopIteration):
        next(gen)


def test_reversed_uses_len_and_items(device):
    _setup(device)
    assert list(reversed(device.proxy("data"))) == [40, 30, 20, 10]


# --------------------------------------------------------------------------------------------------
# Freeing
# --------------------------------------------------------------------------------------------------


def test_del_frees_the_board_object(device):
    _setup(device)
    before = _kept(device)
    made = device.proxy("Thing(3)")
    child = made.child()
    method = made.add
    assert _kept(device) == before + 3
    del made, child, method
    gc.collect()
    assert _kept(device) == before


def test_freeing_is_deferred_to_the_next_call(device):
    _setup(device)
    made = device.proxy("Thing(3)")
    trips = device.round_trips
    del made
    gc.collect()
    assert device.round_trips == trips
    assert _kept(device) == 0


def test_two_proxies_of_one_object_share_the_entry(device):
    _setup(device)
    first = device.proxy("thing").child()
    second = device.proxy(f"{first.__belay_ref__()}")  # the same board object, kept under the same id
    assert first.__belay_ref__() == second.__belay_ref__()
    del first
    gc.collect()
    assert second.x == 2
    assert _kept(device) == 1
    del second
    gc.collect()
    assert _kept(device) == 0


def test_name_proxies_free_nothing(device):
    _setup(device)
    thing = device.proxy("thing")
    del thing
    gc.collect()
    assert device("thing.x") == 1


def test_proxy_cannot_be_copied(device):
    _setup(device)
    with pytest.raises(TypeError, match="cannot be pickled or copied"):
        copy.copy(device.proxy("Thing()"))


# --------------------------------------------------------------------------------------------------
# Arithmetic and conversions
# --------------------------------------------------------------------------------------------------


def test_arithmetic_on_a_board_int_subclass(device):
    _setup(device)
    big = device.proxy("big")
    assert big.__belay_ref__() == "big"
    assert big + 1 == 6
    assert big - 1 == 4
    assert big * 2 == 10
    assert big // 2 == 2
    assert big % 3 == 2
    assert big**2 == 25
    assert big / 2 == 2.5
    assert divmod(big, 2) == (2, 1)
    assert big & 4 == 4
    assert big | 2 == 7
    assert big ^ 1 == 4
    assert big << 1 == 10
    assert big >> 1 == 2
    assert -big == -5
    assert +big == 5
    assert ~big == -6
    assert bool(big) is True


def test_reflected_operators(device):
    three = device.proxy("3")
    assert 10 - three == 7
    assert 1 + three == 4
    assert 2 * three == 6
    assert 7 % three == 1
    assert 2**three == 8
    assert 12 // three == 4
    assert 1 << three == 8
    assert 6 / three == 2.0
    assert divmod(11, three) == (3, 2)
    assert 5 & three == 1
    assert 4 | three == 7
    assert 1 ^ three == 2
    assert 16 >> three == 2
    assert three + three == 6


def test_arithmetic_on_a_board_object_with_operators(device):
    _setup(device)
    thing = device.proxy("thing")
    total = thing + 4
    assert isinstance(total, ProxyObject)
    assert total.x == 5
    assert (thing + device.proxy("other")).x == 3
    assert thing - 1 == 0


@pytest.mark.parametrize("board", ["unix", "wasm"], indirect=True)
def test_unary_reflected_and_in_place_user_operators(device):
    _setup(device)
    device("class R:\n def __radd__(self, o): return 'radd'\n def __rsub__(self, o): return o - 100\nr = R()")
    thing = device.proxy("thing")
    assert -thing == -1
    with pytest.raises(TypeError) as info:
        ~thing  # noqa: B018
    assert isinstance(info.value, DeviceError)
    r = device.proxy("r")
    assert 1 + r == "radd"
    assert 1 - r == -99
    thing += 2  # no __iadd__: falls back to __add__ and rebinds the board name
    assert device("thing.x") == 3
    made = device.proxy("Thing(1)")
    made += 5
    assert isinstance(made, ProxyObject)
    assert made.x == 6


@pytest.mark.parametrize("board", ["microbit"], indirect=True)
def test_user_operators_missing_on_micropython_1_9_fail_clearly(device):
    _setup(device)
    device("class R:\n def __radd__(self, o): return 'radd'\nr = R()")
    thing, r = device.proxy("thing"), device.proxy("r")
    for operation in (lambda: -thing, lambda: 1 + r, lambda: device.proxy("big") + device.proxy("big")):
        with pytest.raises(TypeError) as info:
            operation()
        assert isinstance(info.value, BelayError)
        assert "unsupported type" in str(info.value)
    with pytest.raises(TypeError) as info:
        thing += 2  # 1.9 does not fall back from += to +
    assert isinstance(info.value, DeviceError)
    assert device("thing.x") == 1


def test_in_place_rebinds_a_board_name(device):
    _setup(device)
    big = device.proxy("big")
    big += 1
    assert big.__belay_ref__() == "big"
    assert device("big") == 6
    big *= 2
    assert device("big") == 12
    big <<= 1
    assert device("big") == 24


def test_in_place_on_a_kept_object(device):
    _setup(device)
    number = device.proxy("Big(3)")
    number -= 1  # an int subclass minus an int is a plain int
    assert number == 2
    assert not isinstance(number, ProxyObject)
    items = device.proxy("thing.items")
    same = items
    items += [4]  # a list is changed in place: every proxy of it sees the change
    assert isinstance(items, ProxyObject)
    assert items.__belay_ref__() == same.__belay_ref__()
    assert device("thing.items") == [1, 2, 3, 4]
    assert list(same) == [1, 2, 3, 4]
    del same
    gc.collect()
    assert _kept(device) == 1  # only the list, under its own id


def test_bool_int_float_index(device):
    assert bool(device.proxy("[]")) is False
    assert bool(device.proxy("[0]")) is True
    assert int(device.proxy("3.7")) == 3
    assert float(device.proxy("3")) == 3.0
    index = device.proxy("2")
    assert [10, 20, 30][index] == 30
    assert list(range(index)) == [0, 1]
    with pytest.raises(TypeError):
        [1, 2][device.proxy("1.5")]


def test_round(device):
    assert round(device.proxy("2.7")) == 3
    assert round(device.proxy("2.75"), 1) in (2.7, 2.8)


@pytest.mark.parametrize("board", ["unix", "wasm"], indirect=True)
def test_conversions_of_a_board_int_subclass(device):
    _setup(device)
    big = device.proxy("big")
    assert int(big) == 5
    assert abs(device.proxy("Big(-5)")) == 5
    assert [0, 1, 2, 3, 4, 5][big] == 5


@pytest.mark.parametrize("board", ["microbit"], indirect=True)
def test_conversions_of_a_board_int_subclass_fail_clearly_on_micropython_1_9(device):
    _setup(device)
    big = device.proxy("big")
    for convert in (int, abs):
        with pytest.raises(TypeError) as info:
            convert(big)
        assert isinstance(info.value, BelayError)
        assert "can't convert Big to int" in str(info.value)


def test_containers_reached_through_a_proxy_stay_on_the_board(device):
    _setup(device)
    thing = device.proxy("thing")
    items = thing.items
    assert isinstance(items, ProxyObject)
    items.append(4)  # changes the board's list, not a host copy
    assert device("thing.items") == [1, 2, 3, 4]
    assert list(items[1:3]) == [2, 3]
    assert len(items) == 4
