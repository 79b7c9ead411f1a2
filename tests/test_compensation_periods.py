"""Settlement periods and quarter aggregation (gep.compensation.periods, monitoring aggregation)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from gep.compensation.monitoring import aggregate_monitoring, validate_monitoring
from gep.compensation.periods import (
    months_of_period,
    period_expr,
    periods_in,
    previous_year,
    seconds_in_months,
)


def test_period_keys_and_seconds() -> None:
    assert list(periods_in((2023, 11), (2024, 2), "quarter")) == ["2023-Q4", "2024-Q1"]
    assert periods_in((2023, 11), (2024, 2), "quarter")["2024-Q1"] == ["2024-01", "2024-02"]  # clipped to the range
    assert months_of_period("2024-Q2") == ["2024-04", "2024-05", "2024-06"]
    assert previous_year("2024-Q2") == "2023-Q2" and previous_year("2024-03") == "2023-03"
    # 2024 is a leap year: Feb 29 d × 86 400 = 2 505 600 s; the year 366 d = 31 622 400 s
    assert seconds_in_months(["2024-02"]) == 2_505_600
    assert seconds_in_months(months_of_period("2024")) == 31_622_400


def test_quarter_means_are_exact() -> None:
    raw = pl.DataFrame({
        "section_id": ["S"] * 4, "date": ["2024-01-05", "2024-02-05", "2024-03-05", "2024-04-05"],
        "indicator": ["TP"] * 4, "concentration_mg_l": ["0.1", "0.2", "0.3", "0.9"], "flow_m3s": ["10", "20", "", "5"],
    })
    agg = aggregate_monitoring(validate_monitoring(raw, "q.csv"), period_expr("month", "quarter"))
    q1 = agg.filter(pl.col("period") == "2024-Q1").row(0, named=True)
    # Σ C = 0.6 over 3 samples (exact 0.2 mean); Σ C·Q over samples with flow = 0.1·10 + 0.2·20 = 5.0; Σ Q = 30
    assert q1["n_samples"] == 3 and q1["conc_sum"] == Decimal("0.6") and q1["flux_sum"] == Decimal(5)
    assert q1["flow_sum"] == Decimal(30) and q1["n_flow"] == 2
    assert q1["months"] == ["2024-01", "2024-02", "2024-03"] and q1["flow_months"] == ["2024-01", "2024-02"]
