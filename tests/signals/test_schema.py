"""Signal event schema: decoding NDJSON, CSV and Parquet; every bad line rejected, with a reason."""

from __future__ import annotations

import csv
import io
import json
import typing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.signals.schema import (
    COUNTING_COLUMNS,
    CSV_COLUMNS,
    MAX_LINE_BYTES,
    Signal,
    SignalKind,
    SignalType,
    batch_from_signals,
    decode_ndjson,
    decode_ndjson_batch,
    decode_parquet,
    decode_records,
    json_schema,
    normalise_hashtag,
    signal_to_event,
    signals_from_batch,
)

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z


def event(**overrides: Any) -> dict[str, Any]:
    data = {
        "harm_type": "dangerous_challenges",
        "region": "DE",
        "language": "de",
        "surface": "feed",
        "content_id": "video-1",
        "account_id": "acct-9",
        "keys": {
            "hashtags": ["#blackoutchallenge"],
            "sounds": ["snd-42"],
            "keywords": ["pass out"],
            "media_cluster": "mc-7",
        },
        "weight": 1,
    }
    data.update(overrides.pop("data", {}))
    ev = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "//reports/app",
        "type": "com.rapidresponse.signal.user_report",
        "time": "2026-11-25T10:00:00Z",
        "datacontenttype": "application/json",
        "data": data,
    }
    ev.update(overrides)
    return ev


def ndjson(*events: dict[str, Any] | str) -> bytes:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events).encode()


def test_a_valid_event_decodes_normalised() -> None:
    line = event(
        data={
            "region": "de",
            "language": "de-at",
            "keys": {"hashtags": ["#BlackoutChallenge", "blackoutchallenge", " #Pass "]},
            "weight": 2.5,
        }
    )
    signals, rejects = decode_ndjson(ndjson(line))
    assert rejects == []
    (signal,) = signals
    assert signal.kind is SignalKind.USER_REPORT
    assert signal.harm_type is HarmType.DANGEROUS_CHALLENGES
    assert signal.region == "DE"
    assert signal.language == "de-AT"
    assert signal.hashtags == ("#blackoutchallenge", "#pass")  # case-folded, deduplicated
    assert signal.event_time == T0
    assert signal.weight == 2.5
    assert signal.dedup_key == "//reports/app evt-1"


def test_time_offsets_are_converted_to_utc() -> None:
    signals, _ = decode_ndjson(ndjson(event(time="2026-11-25T12:00:00.5+02:00")))
    assert signals[0].event_time == T0 + 0.5


def test_optional_fields_may_be_absent() -> None:
    minimal = {"harm_type": "hate_speech", "region": "FR", "content_id": "c"}
    line = event()
    line["data"] = minimal
    (signal,), rejects = decode_ndjson(ndjson(line))
    assert rejects == []
    assert (signal.language, signal.surface, signal.account_id) == (None, None, None)
    assert (signal.hashtags, signal.media_cluster, signal.weight) == ((), None, 1.0)


def _without(key: str) -> dict[str, Any]:
    ev = event()
    del ev[key]
    return ev


def _data_without(key: str) -> dict[str, Any]:
    ev = event()
    del ev["data"][key]
    return ev


BAD_LINES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("bad JSON", '{"specversion": "1.0", ', "invalid JSON"),
    ("not an object", "[1, 2]", "Expected `object`"),
    ("missing id", _without("id"), "`id`"),
    ("empty id", event(id=""), "length >= 1"),
    ("oversize id", event(id="x" * 300), "length <= 256"),
    ("missing source", _without("source"), "`source`"),
    ("source with spaces", event(source="my producer"), "URI-reference"),
    ("wrong specversion", event(specversion="0.3"), "specversion"),
    ("unknown kind", event(type="com.rapidresponse.signal.rumour"), "$.type"),
    ("foreign type", event(type="com.example.thing"), "$.type"),
    ("missing time", _without("time"), "`time`"),
    ("time without offset", event(time="2026-11-25T10:00:00"), "RFC 3339"),
    ("garbage time", event(time="yesterday"), "RFC 3339"),
    ("time out of range", event(time="1970-01-01T00:00:00Z"), "outside"),
    ("missing data", _without("data"), "`data`"),
    ("missing harm type", _data_without("harm_type"), "`harm_type`"),
    ("unknown harm type", event(data={"harm_type": "spam"}), "harm_type"),
    ("unknown region", event(data={"region": "XX"}), "ISO 3166-1"),
    ("UK is not a code", event(data={"region": "UK"}), "use GB"),
    ("bad language", event(data={"language": "not a tag"}), "BCP 47"),
    ("unknown surface", event(data={"surface": "billboard"}), "surface"),
    ("missing content id", _data_without("content_id"), "`content_id`"),
    ("weight zero", event(data={"weight": 0}), "> 0"),
    ("weight negative", event(data={"weight": -1}), "> 0"),
    ("weight as text", event(data={"weight": "2"}), "Expected `float`"),
    (
        "too many hashtags",
        event(data={"keys": {"hashtags": [f"#t{i}" for i in range(40)]}}),
        "<= 32",
    ),
    ("empty hashtag", event(data={"keys": {"hashtags": ["#"]}}), "empty hashtag"),
    ("hashtag with space", event(data={"keys": {"hashtags": ["#a b"]}}), "whitespace"),
    ("oversize hashtag", event(data={"keys": {"hashtags": ["#" + "a" * 150]}}), "longer than"),
    ("oversize line", event(id="e", extension="x" * (MAX_LINE_BYTES + 10)), "longer than"),
]


@pytest.mark.parametrize(("case", "line", "reason"), BAD_LINES, ids=[c[0] for c in BAD_LINES])
def test_each_malformed_line_is_rejected_with_a_reason_and_the_rest_decoded(
    case: str, line: dict[str, Any] | str, reason: str
) -> None:
    data = ndjson(event(id="before"), line, event(id="after"))
    signals, rejects = decode_ndjson(data)
    assert [s.id for s in signals] == ["before", "after"], case
    (reject,) = rejects
    assert reject.line == 2
    assert reason in reject.reason
    assert reject.raw  # the offending text, for the rejects file


def test_many_bad_lines_do_not_stop_the_stream() -> None:
    lines: list[dict[str, Any] | str] = []
    for i in range(50):
        lines.append(event(id=f"ok-{i}"))
        lines.append("{nope" if i % 2 else event(id=f"bad-{i}", data={"region": "ZZ"}))
    signals, rejects = decode_ndjson(ndjson(*lines))
    assert len(signals) == 50
    assert [r.line for r in rejects] == list(range(2, 101, 2))


def test_blank_lines_are_skipped_and_numbering_kept() -> None:
    data = ndjson(event(id="a")) + b"\n  \n" + ndjson("{bad", event(id="b"))
    signals, rejects = decode_ndjson(data)
    assert [s.id for s in signals] == ["a", "b"]
    assert [r.line for r in rejects] == [4]


def test_future_events_are_rejected_when_a_limit_is_given() -> None:
    data = ndjson(event(id="now"), event(id="later", time="2026-11-25T11:00:00Z"))
    signals, rejects = decode_ndjson(data, not_after=T0 + 60)
    assert [s.id for s in signals] == ["now"]
    assert "future" in rejects[0].reason


def test_unknown_extension_attributes_are_ignored() -> None:
    signals, rejects = decode_ndjson(ndjson(event(traceparent="00-abc", partnerref="gifct-1")))
    assert len(signals) == 1
    assert rejects == []


def test_lower_case_rfc3339_spellings_are_accepted() -> None:
    signals, rejects = decode_ndjson(ndjson(event(time="2026-11-25t10:00:00z")))
    assert rejects == []
    assert signals[0].event_time == T0


def test_hashtag_rule() -> None:
    assert normalise_hashtag(" #Ünïcode ") == "#ünïcode"
    assert normalise_hashtag("STRASSE") == normalise_hashtag("#straße")
    with pytest.raises(ValueError, match="empty"):
        normalise_hashtag(" # ")


def sample_events() -> list[dict[str, Any]]:
    out = []
    kinds = list(SignalKind)
    for i in range(30):
        out.append(
            event(
                id=f"e{i}",
                type=f"com.rapidresponse.signal.{kinds[i % len(kinds)]}",
                time=f"2026-11-25T10:{i:02d}:{i % 60:02d}.25Z",
                data={
                    "region": ["DE", "fr", "US"][i % 3],
                    "language": None if i % 4 == 0 else ["en", "de-at"][i % 2],
                    "surface": None if i % 5 == 0 else "live",
                    "account_id": None if i % 2 else f"a{i}",
                    "keys": {
                        "hashtags": [f"#T{i % 4}", "#shared"] if i % 3 else [],
                        "sounds": [f"snd-{i % 2}"],
                        "keywords": ["Kill  Switch"] if i % 6 == 0 else [],
                        "media_cluster": None if i % 2 else f"mc-{i % 5}",
                    },
                    "weight": 1 + i % 3,
                },
            )
        )
    return out


def csv_rows(events: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS)
    writer.writeheader()
    for ev in events:
        data = ev["data"]
        keys = data["keys"]
        writer.writerow(
            {
                "id": ev["id"],
                "source": ev["source"],
                "kind": ev["type"].rsplit(".", 1)[1],
                "time": ev["time"],
                "harm_type": data["harm_type"],
                "region": data["region"],
                "language": data.get("language") or "",
                "surface": data.get("surface") or "",
                "content_id": data["content_id"],
                "account_id": data.get("account_id") or "",
                "hashtags": ";".join(keys["hashtags"]),
                "sounds": ";".join(keys["sounds"]),
                "keywords": ";".join(keys["keywords"]),
                "media_cluster": keys["media_cluster"] or "",
                "weight": data["weight"],
            }
        )
    return buffer.getvalue()


def test_csv_decoding_equals_ndjson() -> None:
    events = sample_events()
    from_json, rejects = decode_ndjson(ndjson(*events))
    assert rejects == []
    assert len(from_json) == 30
    text = csv_rows(events)
    from_csv, csv_rejects = decode_records(csv.DictReader(io.StringIO(text)))
    assert csv_rejects == []
    assert from_csv == from_json


def test_csv_rejects_name_the_line() -> None:
    text = csv_rows(sample_events()[:3]).splitlines()
    text[2] = text[2].replace(",DE,", ",Atlantis,").replace(",fr,", ",Atlantis,")
    text.append("e9,//x,user_report,2026-11-25T10:00:00Z,hate_speech,DE,,,c,,,,,,heavy")
    signals, rejects = decode_records(csv.DictReader(io.StringIO("\n".join(text))))
    assert len(signals) == 2
    assert [r.line for r in rejects] == [3, 5]
    assert "ISO 3166-1" in rejects[0].reason
    assert "not a number" in rejects[1].reason


def write_parquet(path: Path, signals: list[Signal], rows_per_group: int = 7) -> None:
    table = pa.Table.from_batches([batch_from_signals(signals)])
    # Plain strings on disk, as another producer would write them.
    table = table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema]))
    pq.write_table(table, path, row_group_size=rows_per_group)


def _plain(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return pa.string()
    if pa.types.is_list(t):
        return pa.list_(_plain(t.value_type))
    return t


def test_parquet_decoding_equals_ndjson(tmp_path: Path) -> None:
    from_json, _ = decode_ndjson(ndjson(*sample_events()))
    path = tmp_path / "signals.parquet"
    write_parquet(path, from_json)
    batches = list(decode_parquet(path, batch_size=8))
    assert all(rejects == [] for _, rejects in batches)
    from_parquet = [s for batch, _ in batches for s in signals_from_batch(batch)]
    assert from_parquet == from_json


def test_parquet_rejects_bad_rows_by_row_number(tmp_path: Path) -> None:
    signals, _ = decode_ndjson(ndjson(*sample_events()[:10]))
    table = pa.Table.from_batches([batch_from_signals(signals)])
    regions = table.column("region").to_pylist()
    regions[3] = "QQ"
    weights = table.column("weight").to_pylist()
    weights[8] = -2.0
    names = table.schema.names
    table = table.set_column(names.index("region"), "region", pa.array(regions))
    table = table.set_column(names.index("weight"), "weight", pa.array(weights))
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path, row_group_size=4)
    results = list(decode_parquet(path, batch_size=4))
    rejects = [r for _, rs in results for r in rs]
    assert [r.line for r in rejects] == [4, 9]
    assert sum(b.num_rows for b, _ in results) == 8


def test_parquet_counting_projection_reads_only_counting_columns(tmp_path: Path) -> None:
    signals, _ = decode_ndjson(ndjson(*sample_events()))
    path = tmp_path / "signals.parquet"
    write_parquet(path, signals)
    results = list(decode_parquet(path, columns=COUNTING_COLUMNS, batch_size=100))
    assert all(rejects == [] for _, rejects in results)
    batches = [batch for batch, _ in results]
    assert sum(b.num_rows for b in batches) == 30
    assert all(b.column("id").null_count == b.num_rows for b in batches)
    hashtags = [h for b in batches for h in b.column("hashtags").to_pylist()]
    assert hashtags == [list(s.hashtags) for s in signals]


def test_batch_and_event_round_trips() -> None:
    signals, _ = decode_ndjson(ndjson(*sample_events()))
    assert signals_from_batch(batch_from_signals(signals)) == signals
    again, rejects = decode_ndjson(ndjson(*[signal_to_event(s) for s in signals]))
    assert rejects == []
    assert again == signals


def test_columnar_and_object_decoders_agree() -> None:
    data = ndjson(*sample_events(), "{bad")
    batch, rejects = decode_ndjson_batch(data)
    signals, rejects_too = decode_ndjson(data)
    assert signals_from_batch(batch) == signals
    assert rejects == rejects_too


def test_json_schema_describes_the_cloudevent() -> None:
    schema = json_schema()
    root = schema["$defs"]["WireEvent"]
    assert set(root["required"]) >= {"specversion", "id", "source", "type", "time", "data"}
    types = set(root["properties"]["type"]["enum"])
    assert types == {f"com.rapidresponse.signal.{k}" for k in SignalKind}
    data = schema["$defs"]["WireData"]
    assert set(data["properties"]["harm_type"]["$ref"].split("/")[-1:]) == {"HarmType"}
    assert json.dumps(schema)  # serialisable for the API docs


def test_signal_type_literal_matches_the_kinds() -> None:
    assert set(typing.get_args(SignalType)) == {f"com.rapidresponse.signal.{k}" for k in SignalKind}
