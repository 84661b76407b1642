"""Turning the board's millisecond clock into host time.

The board's ``time.ticks_ms()`` counts from some start and wraps around; the host's ``time.time()`` is
wall-clock time. One round trip that reads the board's clock gives a sample: the board showed
``ticks`` somewhere between the host's send and receive times, so its midpoint is right to within
half the round trip. The sample kept is the one with the smallest uncertainty, where a sample's
uncertainty grows as it ages (the two clocks drift apart by up to `DRIFT`), so fresh samples carried
on results replace old ones and the estimate follows drift without ever trusting a slow round trip.
"""

from __future__ import annotations

import time
from typing import Optional

from attrs import define

TICKS_PERIOD = 1 << 30
"""``time.ticks_ms()`` wraps around at this many milliseconds on MicroPython ports."""

DRIFT = 200e-6
"""Assumed worst drift between the board's clock and the host's: 200 ppm (common crystals are 20-100)."""

REFRESH = 30.0
"""Seconds after which results carry the board's time again by default, to follow drift."""


@define(eq=False, repr=False)
class Sample:
    """One reading of the board's clock: ``ticks`` at host time ``host`` (give or take ``error`` s)."""

    ticks: int
    host: float
    error: float


@define(eq=False, repr=False)
class TimeSync:
    """The best-known relation between the board's clock and the host's.

    Attributes
    ----------
    sample
        The sample in use; ``None`` before the first.
    """

    sample: Optional[Sample] = None

    def uncertainty(self, now: Optional[float] = None) -> float:
        """Seconds the current estimate may be off by at host time ``now`` (infinite with no sample)."""
        if self.sample is None:
            return float("inf")
        now = time.time() if now is None else now
        return self.sample.error + DRIFT * abs(now - self.sample.host)

    def stale(self, now: Optional[float] = None) -> bool:
        """Whether the sample in use is older than `REFRESH` seconds (or there is none)."""
        if self.sample is None:
            return True
        now = time.time() if now is None else now
        return now - self.sample.host > REFRESH

    def add(self, ticks: int, sent: float, received: float) -> None:
        """Offer a reading of ``ticks`` made by a round trip from ``sent`` to ``received`` (host seconds)."""
        candidate = Sample(ticks, (sent + received) / 2, (received - sent) / 2)
        if candidate.error <= self.uncertainty(candidate.host):
            self.sample = candidate

    def reset(self) -> None:
        """Forget every sample (the board's clock may have restarted)."""
        self.sample = None

    @property
    def offset(self) -> Optional[float]:
        """Board clock minus host clock in seconds, or ``None`` before the first sample."""
        if self.sample is None:
            return None
        return self.sample.ticks / 1000 - self.sample.host

    def host_time(self, ticks: int) -> float:
        """The host time (seconds since the epoch) at which the board's clock showed ``ticks``."""
        assert self.sample is not None
        elapsed = (ticks - self.sample.ticks) % TICKS_PERIOD
        if elapsed > TICKS_PERIOD // 2:  # a little before the sample
            elapsed -= TICKS_PERIOD
        return self.sample.host + elapsed / 1000
