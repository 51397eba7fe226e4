"""Generates the bundled example data (loan applications).

train.parquet: 20 000 historical applications in 4 row groups.
serving.parquet: 2 000 recent applications with realistic problems: income has
shifted upwards, a region never seen in training appears, some credit scores
are missing and a few incomes are NaN.

Run: python3 examples/data/make_data.py   (needs pyarrow and numpy)
"""
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
REGIONS = ["north", "south", "east", "west", "central"]
JOBS = ["salaried", "self-employed", "contractor", "retired", "student"]


def applications(rng, n, start, income_shift=1.0, new_region=None, nan_income=0, missing_scores=0):
    age = rng.integers(18, 80, n)
    income = rng.lognormal(10.6, 0.5, n) * income_shift
    if nan_income:
        income[rng.choice(n, nan_income, replace=False)] = np.nan
    score = rng.normal(680, 60, n).clip(300, 850).round().astype("int64")
    score_mask = np.zeros(n, dtype=bool)
    if missing_scores:
        score_mask[rng.choice(n, missing_scores, replace=False)] = True
    amount = (rng.gamma(2.0, 6000, n)).round(2)
    regions = rng.choice(np.array(REGIONS, dtype=object), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    if new_region:
        regions[rng.choice(n, n // 20, replace=False)] = new_region
    job = rng.choice(JOBS, n, p=[0.55, 0.15, 0.12, 0.1, 0.08])
    risk = -4 + 0.004 * (700 - score) + 0.00004 * amount - 0.00001 * np.nan_to_num(income)
    default = rng.random(n) < 1 / (1 + np.exp(-risk))
    applied = start + rng.integers(0, 86400 * 90, n).astype("int64")
    return pa.table({
        "age": pa.array(age, pa.int32()),
        "income": pa.array(income, pa.float64()),
        "credit_score": pa.array(score, pa.int64(), mask=score_mask),
        "loan_amount": pa.array(amount, pa.float64()),
        "region": pa.array(regions).dictionary_encode(),
        "employment": pa.array(job, pa.string()),
        "defaulted": pa.array(default, pa.bool_()),
        "applied_at": pa.array(applied * 1_000_000, pa.timestamp("us", tz="UTC")),
    })


def main():
    rng = np.random.default_rng(7)
    jan = 1767225600  # 2026-01-01T00:00:00Z
    pq.write_table(applications(rng, 20_000, jan), HERE / "train.parquet", row_group_size=5_000, compression="zstd")
    serving = applications(rng, 2_000, jan + 86400 * 180, income_shift=1.35, new_region="offshore", nan_income=7, missing_scores=40)
    pq.write_table(serving, HERE / "serving.parquet", row_group_size=1_000, compression="zstd")


if __name__ == "__main__":
    main()
