"""Tests of lib/driver.py on the boards: run with ``pytest -n auto --belay-fleet boards.toml -rs``."""

import pytest


def test_reads_the_id(board):
    assert board("__import__('driver').chip_id()") == 0x60


def test_checksum(board):
    @board.task
    def checksum_of(data):
        import driver

        return driver.checksum(data)

    assert checksum_of(b"\x01\x02\xff") == 2


@pytest.mark.belay(tags=["fast"])
def test_large_checksum(board):
    assert board("__import__('driver').checksum(bytes(range(256)) * 8)") == 0


@pytest.mark.belay(features=["thread"])
def test_checksum_in_a_thread(board):
    @board.thread
    def background():
        import driver

        global result
        result = driver.checksum(b"\x10\x20")

    background()
    board("import time\nwhile 'result' not in globals(): time.sleep_ms(1)")
    assert board("result") == 0x30
