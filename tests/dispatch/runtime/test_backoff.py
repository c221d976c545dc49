"""The one back-off of the loops that outlive an unavailable service."""

from __future__ import annotations

import time

import pytest

from dispatch.runtime.backoff import Backoff


async def test_waits_double_up_to_the_bound_and_start_again_after_a_success() -> None:
    backoff = Backoff(first=0.01, most=0.04)
    delays = []
    for _ in range(4):
        delays.append(backoff.delay)
        started = time.monotonic()
        await backoff.wait()
        assert time.monotonic() - started >= delays[-1] * 0.9
    assert delays == [0.01, 0.02, 0.04, 0.04]
    backoff.succeeded()
    assert backoff.delay == 0.01


@pytest.mark.parametrize(("first", "most"), [(0, 1), (-1, 1), (2, 1)])
def test_refuses_waits_that_make_no_sense(first: float, most: float) -> None:
    with pytest.raises(ValueError, match="waits must be above 0"):
        Backoff(first=first, most=most)
