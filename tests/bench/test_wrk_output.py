"""bench/api_throughput.py reads wrk's --latency output: p50, p99, totals and errors from real samples."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from api_throughput import parse_wrk_output

# The "+/- Stdev" column of both rows ends in "50%": an unanchored "50%" pattern read "Req/Sec" and
# "Latency" as the p50 and crashed the run.
STDEV_ENDS_IN_50 = """\
Running 10s test @ http://127.0.0.1:41235/api/v1/products?limit=50
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    78.42ms   21.07ms 212.36ms   77.50%
    Req/Sec   102.45     19.83   150.00     50.00%
  Latency Distribution
     50%   75.10ms
     75%   88.93ms
     90%  104.77ms
     99%  152.02ms
  2047 requests in 10.01s, 25.36MB read
Requests/sec:    204.50
Transfer/sec:      2.53MB
"""

# Sub-millisecond and second-long latencies, thousands of req/s, errors of both kinds.
MIXED_UNITS_WITH_ERRORS = """\
Running 8s test @ http://127.0.0.1:39017/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms    3.02ms   1.02s    96.12%
    Req/Sec     1.84k   212.40     2.31k    71.25%
  Latency Distribution
     50%  628.00us
     75%    2.04ms
     90%    4.87ms
     99%    1.01s
  29411 requests in 8.00s, 4.57MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   3676.21
Transfer/sec:    584.98KB
"""

# wrk prints minutes once a run lasts that long.
MINUTES = """\
Running 2m test @ http://127.0.0.1:39017/api/v1/shop
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.90ms    1.20ms  50.00ms   50.00%
    Req/Sec   202.11     10.50   250.00     99.50%
  Latency Distribution
     50%    9.50ms
     75%   10.20ms
     90%   11.40ms
     99%   15.00ms
  48400 requests in 2.00m, 9.10MB read
Requests/sec:    403.30
Transfer/sec:     77.60KB
"""


def test_a_stdev_column_ending_in_50_percent_is_not_taken_for_the_p50() -> None:
    figures = parse_wrk_output(STDEV_ENDS_IN_50)

    assert figures.percentiles_ms == {50.0: 75.10, 75.0: 88.93, 90.0: 104.77, 99.0: 152.02}
    assert (figures.requests, figures.seconds, figures.errors) == (2047, 10.01, 0)


def test_units_are_converted_to_milliseconds_and_errors_counted() -> None:
    figures = parse_wrk_output(MIXED_UNITS_WITH_ERRORS)

    assert figures.percentiles_ms[50.0] == pytest.approx(0.628)
    assert figures.percentiles_ms[99.0] == pytest.approx(1010.0)
    assert figures.requests == 29411
    assert figures.seconds == pytest.approx(8.0)
    assert figures.errors == 7 + 3 + 2


def test_a_run_measured_in_minutes_reports_seconds() -> None:
    figures = parse_wrk_output(MINUTES)

    assert figures.seconds == pytest.approx(120.0)
    assert figures.percentiles_ms[50.0] == pytest.approx(9.5)


def test_output_without_the_distribution_is_refused_with_a_reason() -> None:
    without_latency_flag = (
        STDEV_ENDS_IN_50.split("  Latency Distribution")[0] + "  2047 requests in 10.01s, 25.36MB read\n"
    )

    with pytest.raises(ValueError, match="--latency"):
        parse_wrk_output(without_latency_flag)
