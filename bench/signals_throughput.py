"""Signal throughput: decode + windowed counting, end to end, from NDJSON and from Parquet.

Prints JSON. Generates (seeded, in a temp dir) N signal events over M minutes with 100,000
active hashtags (Zipf), 10,000 sounds, 20,000 media clusters and the small families, with
event times disordered by up to 90 s (inside the 10-minute lateness, so nothing is late), as
NDJSON (CloudEvents) and as Parquet (flattened columns). Then, single-threaded:

- ours: ``schema.decode_ndjson_batch`` / ``schema.decode_parquet`` + ``WindowedCounter``
  (1-minute windows, closed windows emitted as they close, flushed at the end);
- baseline, same run: polars reads the same file and groups by window x family x key
  (``POLARS_MAX_THREADS=1`` unless ``--polars-threads`` says otherwise; reported);
- both results are compared key by key and must be identical (the run fails otherwise);
- memory: the counter's held keys and bytes after 10k / 100k / 1M distinct hashtags in one
  window, at the default capacity and with an effectively unbounded capacity.

Usage: python bench/signals_throughput.py [--events N] [--minutes M] [--polars-threads T]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

Counts = dict[tuple[str, float, str], tuple[int, float]]


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--hashtags", type=int, default=100_000)
    parser.add_argument("--polars-threads", type=int, default=1)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    return parser.parse_args()


ARGS = _args() if __name__ == "__main__" else None
if ARGS is not None:
    # Must be set before polars is imported.
    os.environ["POLARS_MAX_THREADS"] = str(ARGS.polars_threads)

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from rapidresponse.incidents.taxonomy import HarmType  # noqa: E402
from rapidresponse.signals.counting import (  # noqa: E402
    ClosedWindow,
    CounterConfig,
    KeyColumn,
    KeyFamily,
    WindowedCounter,
)
from rapidresponse.signals.schema import (  # noqa: E402
    COUNTING_COLUMNS,
    TYPE_PREFIX,
    decode_ndjson_batch,
    decode_parquet,
)

T0 = 1_795_600_800  # 2026-11-25T10:00:00Z
REGIONS = ["US", "GB", "DE", "FR", "IN", "BR", "ID", "MX", "PH", "TR"]
REGIONS += ["JP", "KR", "IT", "ES", "PL", "NL", "SE", "NG", "EG", "PK"]
LANGUAGES = ["en", "de", "fr", "es", "pt", "hi", "id", "ja", "ko", "it"]
LANGUAGES += ["pl", "nl", "sv", "tr", "ar"]
SURFACES = ["feed", "live", "search", "comments", "dms"]
KINDS = [
    "user_report",
    "classifier_flag",
    "hash_match",
    "trusted_flagger",
    "law_enforcement_request",
    "partner_alert",
    "press_inquiry",
]
CHUNK_BYTES = 16 * 1024 * 1024


def zipf_ranks(rng: np.random.Generator, n: int, size: int, s: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return rng.choice(n, size=size, p=weights / weights.sum())


def generate(n: int, minutes: int, n_hashtags: int, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, minutes * 60, n))
    offsets = np.clip(offsets + rng.uniform(-90, 0, n), 0, None)  # bounded disorder
    micros = (T0 * 1_000_000 + np.round(offsets * 1e6)).astype(np.int64)
    tag_count = rng.choice([1, 2, 3], size=n, p=[0.5, 0.35, 0.15])
    tag_ranks = zipf_ranks(rng, n_hashtags, int(tag_count.sum()))
    hashtags: list[list[str]] = []
    at = 0
    for k in tag_count.tolist():
        hashtags.append([f"#t{r}" for r in dict.fromkeys(tag_ranks[at : at + k].tolist())])
        at += k
    sounds = [[f"snd-{r}"] for r in zipf_ranks(rng, 10_000, n).tolist()]
    clusters = zipf_ranks(rng, 20_000, n)
    has_cluster = rng.random(n) < 0.5
    has_language = rng.random(n) < 0.8
    weight = np.where(rng.random(n) < 0.9, 1.0, rng.choice([2.0, 5.0], size=n))
    columns = {
        "id": [f"evt-{i:09d}" for i in range(n)],
        "source": [f"//producers/p{i}" for i in rng.integers(0, 8, n).tolist()],
        "kind": [KINDS[i] for i in rng.integers(0, len(KINDS), n).tolist()],
        "time": pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "harm_type": [list(HarmType)[i].value for i in rng.integers(0, 10, n).tolist()],
        "region": [REGIONS[i] for i in zipf_ranks(rng, len(REGIONS), n).tolist()],
        "language": [
            LANGUAGES[i] if ok else None
            for i, ok in zip(
                rng.integers(0, len(LANGUAGES), n).tolist(), has_language.tolist(), strict=True
            )
        ],
        "surface": [SURFACES[i] for i in rng.integers(0, len(SURFACES), n).tolist()],
        "content_id": [f"v{i}" for i in rng.integers(0, 10**9, n).tolist()],
        "account_id": [f"a{i}" for i in rng.integers(0, 10**8, n).tolist()],
        "hashtags": hashtags,
        "sounds": sounds,
        "keywords": [[] for _ in range(n)],
        "media_cluster": [
            f"mc-{c}" if ok else None
            for c, ok in zip(clusters.tolist(), has_cluster.tolist(), strict=True)
        ],
        "weight": weight,
    }
    return columns


def write_inputs(columns: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    columns = dict(columns)
    columns["keywords"] = pa.array(columns["keywords"], pa.list_(pa.string()))
    table = pa.table(columns)
    parquet = folder / "signals.parquet"
    pq.write_table(table, parquet, row_group_size=262_144)
    ndjson = folder / "signals.ndjson"
    stamps = table.column("time").cast(pa.string()).to_pylist()
    with ndjson.open("w") as out:
        for i, row in enumerate(table.to_pylist()):
            data: dict[str, Any] = {
                "harm_type": row["harm_type"],
                "region": row["region"],
                "surface": row["surface"],
                "content_id": row["content_id"],
                "account_id": row["account_id"],
                "keys": {
                    "hashtags": row["hashtags"],
                    "sounds": row["sounds"],
                    "keywords": row["keywords"],
                    "media_cluster": row["media_cluster"],
                },
                "weight": row["weight"],
            }
            if row["language"] is not None:
                data["language"] = row["language"]
            event = {
                "specversion": "1.0",
                "id": row["id"],
                "source": row["source"],
                "type": TYPE_PREFIX + row["kind"],
                "time": stamps[i].replace(" ", "T").replace("Z", "") + "Z",
                "datacontenttype": "application/json",
                "data": data,
            }
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
    return ndjson, parquet


# --- ours -------------------------------------------------------------------------------------


def ours_ndjson(path: Path, config: CounterConfig) -> tuple[list[ClosedWindow], int, int]:
    counter = WindowedCounter(config)
    closed: list[ClosedWindow] = []
    rejects = 0
    with path.open("rb") as source:
        tail = b""
        while True:
            block = source.read(CHUNK_BYTES)
            if not block:
                break
            block = tail + block
            cut = block.rfind(b"\n") + 1
            tail = block[cut:]
            batch, bad = decode_ndjson_batch(block[:cut])
            rejects += len(bad)
            counter.add_signal_batch(batch)
            closed.extend(counter.close_ready())
        if tail:
            batch, bad = decode_ndjson_batch(tail)
            rejects += len(bad)
            counter.add_signal_batch(batch)
    closed.extend(counter.flush())
    return closed, rejects, counter.late_events


def ours_parquet(
    path: Path, config: CounterConfig, columns: tuple[str, ...] | None = None
) -> tuple[list[ClosedWindow], int, int]:
    counter = WindowedCounter(config)
    closed: list[ClosedWindow] = []
    rejects = 0
    for batch, bad in decode_parquet(path, columns=columns):
        rejects += len(bad)
        counter.add_signal_batch(batch)
        closed.extend(counter.close_ready())
    closed.extend(counter.flush())
    return closed, rejects, counter.late_events


def ours_counts(closed: list[ClosedWindow]) -> Counts:
    counts: Counts = {}
    for window in closed:
        for key, (count, weight) in window.as_dict().items():
            counts[(str(window.family), window.window_start, key)] = (count, round(weight, 6))
    return counts


# --- baseline ---------------------------------------------------------------------------------


def polars_count(frame: pl.DataFrame, window_s: int) -> dict[str, pl.DataFrame]:
    """The same counting, written the straightforward way: group by window x key."""
    frame = frame.with_columns(
        (pl.col("time").dt.epoch("us") // (window_s * 1_000_000) * window_s).alias("window")
    )
    out: dict[str, pl.DataFrame] = {}

    def agg(df: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
        return (
            df.with_columns(key.alias("key"))
            .group_by("window", "key")
            .agg(pl.len().alias("count"), pl.col("weight").sum().alias("weight_sum"))
        )

    out["harm_region"] = agg(frame, pl.concat_str("harm_type", "region", separator="|"))
    out["harm_language"] = agg(
        frame.filter(pl.col("language").is_not_null()),
        pl.concat_str("harm_type", "language", separator="|"),
    )
    for family, column in (("hashtag", "hashtags"), ("sound", "sounds")):
        exploded = frame.select("window", "weight", column).explode(column)
        out[family] = agg(exploded.filter(pl.col(column).is_not_null()), pl.col(column))
    out["media_cluster"] = agg(
        frame.filter(pl.col("media_cluster").is_not_null()), pl.col("media_cluster")
    )
    return out


def polars_ndjson(path: Path, window_s: int) -> dict[str, pl.DataFrame]:
    raw = pl.read_ndjson(path)
    data = raw.select(
        pl.col("time").str.to_datetime(time_zone="UTC", time_unit="us"),
        pl.col("data").struct.unnest(),
    )
    frame = data.with_columns(pl.col("keys").struct.unnest()).drop("keys")
    return polars_count(frame, window_s)


def polars_parquet(
    path: Path, window_s: int, columns: tuple[str, ...] | None = None
) -> dict[str, pl.DataFrame]:
    return polars_count(pl.read_parquet(path, columns=list(columns) if columns else None), window_s)


def polars_counts(frames: dict[str, pl.DataFrame]) -> Counts:
    counts: Counts = {}
    for family, frame in frames.items():
        for window, key, count, weight in frame.iter_rows():
            counts[(family, float(window), key)] = (count, round(weight, 6))
    return counts


# --- memory -----------------------------------------------------------------------------------


def memory_at(distinct: int, capacity: int, batch: int = 200_000) -> dict[str, Any]:
    """Feed ``2 * distinct`` hashtags into one window: every one of ``distinct`` keys once,
    then ``distinct`` more drawn Zipf (s = 1.1) from the same keys."""
    counter = WindowedCounter(CounterConfig(capacity=capacity, families=(KeyFamily.HASHTAG,)))
    vocabulary = pa.array([f"#k{i}" for i in range(distinct)], pa.string())
    rng = np.random.default_rng(11)
    codes_all = np.concatenate((np.arange(distinct), zipf_ranks(rng, distinct, distinct)))
    peak_items = peak_bytes = 0
    for start in range(0, len(codes_all), batch):
        codes = codes_all[start : start + batch]
        times = np.full(len(codes), float(T0))
        rows = np.arange(len(codes))
        counter.add_batch(times, {KeyFamily.HASHTAG: KeyColumn(rows, codes, vocabulary)})
        peak_items = max(peak_items, counter.memory_items())
        peak_bytes = max(peak_bytes, counter.nbytes())
    (window,) = counter.flush()
    true = np.bincount(codes_all, minlength=distinct)
    top_true = {f"#k{i}" for i in np.argsort(-true, kind="stable")[:100].tolist()}
    top_ours = {row.key for row in window.top(100)}
    return {
        "distinct_keys": distinct,
        "capacity": capacity,
        "peak_items_held": peak_items,
        "peak_bytes_held": peak_bytes,
        "keys_reported": len(window),
        "top100_recall": len(top_true & top_ours) / 100,
        "max_error": window.max_error,
        "error_bound_n_over_capacity_plus_1": window.total_count // (capacity + 1),
    }


def memory_report() -> dict[str, Any]:
    sizes = (10_000, 100_000, 1_000_000)
    return {
        "bounded (capacity 20,000)": [memory_at(d, 20_000) for d in sizes],
        "exact (capacity 10,000,000)": [memory_at(d, 10_000_000) for d in sizes],
    }


# --- main -------------------------------------------------------------------------------------


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:
    assert ARGS is not None
    n = ARGS.events
    config = CounterConfig(capacity=max(ARGS.hashtags, 20_000))
    report: dict[str, Any] = {
        "benchmark": "signals_throughput",
        "machine": {
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "os": platform.platform(),
        },
        "events": n,
        "minutes": ARGS.minutes,
        "active_hashtags": ARGS.hashtags,
        "counter": {
            "window_seconds": config.window_seconds,
            "allowed_lateness_seconds": config.allowed_lateness_seconds,
            "capacity": config.capacity,
            "families": [str(f) for f in config.families],
        },
        "ours_threads": 1,
        "polars_threads": pl.thread_pool_size(),
    }
    if ARGS.only_memory:
        report["memory"] = memory_report()
        print(json.dumps(report, indent=2))
        return
    with tempfile.TemporaryDirectory() as folder:
        ndjson, parquet = write_inputs(generate(n, ARGS.minutes, ARGS.hashtags), Path(folder))
        report["ndjson_bytes"] = ndjson.stat().st_size
        report["parquet_bytes"] = parquet.stat().st_size
        results: dict[str, Any] = {}
        projection = COUNTING_COLUMNS
        for name, ours, baseline, path, extra in (
            ("ndjson", ours_ndjson, polars_ndjson, ndjson, ()),
            ("parquet", ours_parquet, polars_parquet, parquet, ()),
            ("parquet_counting_columns", ours_parquet, polars_parquet, parquet, (projection,)),
        ):
            (closed, rejects, late), ours_s = timed(ours, path, config, *extra)
            frames, base_s = timed(baseline, path, config.window_seconds, *extra)
            mine, theirs = ours_counts(closed), polars_counts(frames)
            exact = all(w.max_error == 0 for w in closed)
            results[name] = {
                "ours_events_per_s": round(n / ours_s),
                "ours_seconds": round(ours_s, 3),
                "polars_events_per_s": round(n / base_s),
                "polars_seconds": round(base_s, 3),
                "ratio_ours_over_polars": round(base_s / ours_s, 2),
                "rejects": rejects,
                "late": late,
                "window_key_rows": len(mine),
                "counts_identical": mine == theirs and exact,
            }
            if mine != theirs:
                diff = sorted(set(mine.items()) ^ set(theirs.items()))[:5]
                results[name]["first_differences"] = [repr(d) for d in diff]
        report["throughput"] = results
        report["targets"] = {
            "ndjson_events_per_s_per_core": 300_000,
            "parquet_events_per_s_per_core": 2_000_000,
            "ndjson_met": results["ndjson"]["ours_events_per_s"] >= 300_000,
            "parquet_met": results["parquet"]["ours_events_per_s"] >= 2_000_000,
            "parquet_counting_columns_met": results["parquet_counting_columns"]["ours_events_per_s"]
            >= 2_000_000,
        }
    if not ARGS.skip_memory:
        report["memory"] = memory_report()
    print(json.dumps(report, indent=2))
    ok = all(r["counts_identical"] for r in report["throughput"].values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
