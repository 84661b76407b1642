"""A stand-in sensor driver: the code under test, synced to each board's /lib."""


def chip_id():
    return 0x60


def checksum(data):
    total = 0
    for byte in data:
        total = (total + byte) & 0xFF
    return total
