"""Ingestion reads files in pieces of bounded size (memory bounded by a piece, not by the file): the result is the
one of a whole-file read, with the quality counts, discards and line numbers of the whole file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datakit import csv_of, frame

from lookout_nb.service.learning import chunks
from lookout_nb.service.learning.ingest import ingest_folder


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 200 bytes: every file below is cut into many."""
    monkeypatch.setattr(chunks, "PIECE_BYTES", 200)


def _write(folder, name, body: bytes):
    path = folder / "pump" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _mixed(tmp_path):
    """Two files out of order, with a repeated timestamp across them, text, inf, empty cells, a bad stamp."""
    a = frame("2026-01-01T01:00", 40, {"Flow": np.arange(40.0), "Speed": np.arange(40.0) * 2})
    b = frame("2026-01-01T00:30", 31, {"Flow": np.arange(31.0) + 100, "Speed": np.arange(31.0)})
    text_a = csv_of(a).replace(b",5.0,10.0\n", b",abc,inf\n").replace(b",7.0,14.0\n", b",,14.0\n")
    text_a = text_a.replace(b"2026-01-01T01:09:00.000000", b"not a time")
    _write(tmp_path, "a.csv", text_a)
    _write(tmp_path, "b.csv", csv_of(b))  # its last row (01:00) repeats a's first: a's is kept (key order)


def test_a_file_read_in_pieces_gives_the_frame_and_counts_of_a_whole_read(tmp_path, small_pieces, monkeypatch):
    _mixed(tmp_path)
    pieces = ingest_folder(tmp_path)
    monkeypatch.setattr(chunks, "PIECE_BYTES", 1 << 30)
    whole = ingest_folder(tmp_path)
    pd.testing.assert_frame_equal(pieces.frames["pump"], whole.frames["pump"])
    assert pieces.quality == whole.quality and pieces.files == whole.files
    q = pieces.quality
    assert q["DuplicateTimestamps"]["TotalNumberOfDuplicateTimestamps"] == 1
    assert q["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] == 1
    assert q["InvalidSensorData"]["TotalNumberOfInvalidValues"] == 2
    assert q["MissingSensorData"]["TotalNumberOfMissingValues"] == 1
    assert pieces.frames["pump"].index.is_monotonic_increasing and len(pieces.frames["pump"]) == 69
    assert pieces.frames["pump"].loc["2026-01-01T01:00Z", "Flow"] == 0.0  # a.csv's row, read first


def test_a_malformed_row_in_a_later_piece_discards_the_whole_file_naming_its_line(tmp_path, small_pieces):
    good = frame("2026-01-01", 30, {"Flow": np.arange(30.0)})
    _write(tmp_path, "a.csv", csv_of(good))
    rows = csv_of(frame("2026-01-02", 30, {"Flow": np.arange(30.0)})).split(b"\n")
    rows[25] += b",7,8"  # line 26 of the file has 4 fields, the header 2
    _write(tmp_path, "b.csv", b"\n".join(rows))
    result = ingest_folder(tmp_path)
    assert result.files["DiscardedFiles"] == [{"Bucket": "", "Key": "pump/b.csv"}]
    assert "line 26" in result.detail, result.detail
    assert len(result.frames["pump"]) == 30  # nothing of b.csv, though its first pieces were read
    assert result.quality["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] == 0


def test_a_quoted_field_across_a_piece_boundary_is_read_whole(tmp_path, small_pieces):
    body = b"Timestamp,Flow,Note\n" + b"".join(
        b'2026-01-01T00:%02d:00,%d,"a note\nthat goes on"\n' % (i, i) for i in range(40))
    _write(tmp_path, "a.csv", body)
    result = ingest_folder(tmp_path, {"pump": ["Flow"]})
    assert result.files["DiscardedFiles"] == []
    assert result.frames["pump"]["Flow"].tolist() == list(map(float, range(40)))


def test_a_first_file_discarded_half_way_does_not_give_the_sensors(tmp_path, small_pieces):
    rows = csv_of(frame("2026-01-01", 30, {"Old": np.arange(30.0)})).split(b"\n")
    rows[25] += b",7,8"
    _write(tmp_path, "a.csv", b"\n".join(rows))  # discarded at its line 26, after its first pieces were read
    _write(tmp_path, "b.csv", csv_of(frame("2026-01-02", 30, {"Flow": np.arange(30.0)})))
    result = ingest_folder(tmp_path)
    assert result.schema.sensors == {"pump": ("Flow",)} and len(result.frames["pump"]) == 30


@pytest.mark.parametrize("size", [5, 17, 64, 1000, 10**6])
@pytest.mark.parametrize("block", [1, 7, 100, 100_000])
def test_pieces_give_back_every_row_once_with_the_file_line_numbers(size, block):
    text = b"Time,Flow\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(1000))
    got = list(chunks.pieces([text[i:i + block] for i in range(0, len(text), block)], size=size))
    assert all(p.text.startswith(b"Time,Flow\n") for p in got)
    assert b"Time,Flow\n" + b"".join(p.text.split(b"\n", 1)[1] for p in got) == text
    for p in got:  # data row i is on the file's line i + 2; its line in the piece is 2
        assert int(p.text.split(b"\n")[1].split(b",")[0]) == p.lines_before


def test_a_file_deleted_between_listing_and_reading_fails_the_job_naming_it(endpoint, lookout, s3, unique_bucket):
    from datakit import create_dataset, ingest, upload

    from lookout_nb.service.learning.ingest import S3Reader

    class Vanishing(S3Reader):
        def keys(self, bucket, prefix, field="IngestionInputConfiguration.S3InputConfiguration"):
            found = super().keys(bucket, prefix, field)
            s3.delete_object(Bucket=bucket, Key=found[0][0])
            return found

    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    endpoint.backend.core.data_reader = Vanishing(s3)
    create_dataset(lookout, "vanishing", {"pump": ["Flow"]})
    job = ingest(lookout, "vanishing", unique_bucket)
    assert job["Status"] == "FAILED"
    assert f"Cannot read s3://{unique_bucket}/train/pump/pump.csv (NoSuchKey, HTTP 404" in job["FailedReason"]
