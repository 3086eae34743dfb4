"""Datasets against the embedded endpoint: a folder of CSVs becomes an ingested dataset; each bad input is named.

Every test writes its own generated machine (``lookout_nb.service.demo.synth``) to a temporary folder and uses its own
bucket, so tests share nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

import lookout_nb as lnb
from lookout_nb.calls import _wait
from lookout_nb.service.demo import synth

ROLE = "arn:aws:iam::123456789012:role/LookoutEquipmentDemo"


@pytest.fixture(scope="module")
def machine():
    return synth.generate(days=3, seed=5, rate="PT5M")


@pytest.fixture
def folder(tmp_path, machine):
    machine.write_csv(tmp_path / "pump-csvs")
    return tmp_path / "pump-csvs"


def keys(s3, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_a_folder_of_csvs_becomes_an_ingested_dataset(folder, lookout, s3, unique_bucket, machine):
    ds = lnb.create_dataset("pump-data", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    assert ds.status == "CREATED" and ds.source == f"s3://{unique_bucket}/pump-data/"
    assert ds.schema == machine.schema  # from the files' headers
    # Uploaded in the layout of the default KeyPattern {prefix}/{component_name}/*; the label file stays home.
    assert keys(s3, unique_bucket) == ["pump-data/hx-pump/hx-pump.csv", "pump-data/motor/motor.csv"]

    job = lnb.ingest(ds, role_arn=ROLE, client=lookout, poll=0.1, progress=False)
    assert (job.status, job.total_files, job.ingested_files, job.discarded_files) == ("SUCCESS", 2, 2, ())
    first, last = machine.frames["motor"].index[[0, -1]]
    assert (job.data_start, job.data_end) == (first, last)
    quality = job.quality_table()
    assert list(quality.columns) == ["check", "affected_sensors", "count", "meaning"]
    # Three days of data: every sensor spans less than the 14 days the service asks for, nothing else is wrong.
    short = quality.set_index("check").loc["SensorsWithShortDateRange"]
    others = quality.loc[quality.check != "SensorsWithShortDateRange", "count"]
    assert short["affected_sensors"] == 8 and others.sum() == 0
    assert "SensorsWithShortDateRange" in job._repr_html_()

    described = lnb.describe_dataset("pump-data", client=lookout)
    assert described.status == "ACTIVE" and described.data_start == first and described.source == ds.source
    table = lnb.list_datasets(client=lookout)
    assert "pump-data" in table["name"].tolist() and str(table["created_at"].dtype) == "datetime64[ns, UTC]"
    jobs = lnb.ingestion_jobs("pump-data", client=lookout)
    assert jobs[["job_id", "status", "bucket"]].values.tolist() == [[job.job_id, "SUCCESS", unique_bucket]]

    again = lnb.create_dataset("pump-data", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    assert again.arn == ds.arn  # the same dataset again: created once
    lnb.delete_dataset("pump-data", client=lookout)
    assert "pump-data" not in lnb.list_datasets(client=lookout)["name"].tolist()


def test_a_ragged_file_is_named_with_its_line_before_anything_is_uploaded(folder, lookout, s3, unique_bucket):
    (folder / "motor" / "extra.csv").write_text("Timestamp,Power,Current,WindingTemperature,BearingTemperature\n"
                                                "2026-01-04T00:00:00,1,2,3,4\n2026-01-04T00:05:00,1,2,3,4,5\n")
    with pytest.raises(lnb.DataFilesInvalid) as caught:
        lnb.create_dataset("ragged", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    message = str(caught.value)
    assert "- motor/extra.csv: File motor/extra.csv is not well-formed CSV (" in message
    assert "Expected 5 fields in line 3, saw 6" in message
    assert "nothing was uploaded" in message and keys(s3, unique_bucket) == []
    assert "ragged" not in lnb.list_datasets(client=lookout)["name"].tolist()


def test_files_that_are_not_csv_are_named(folder, lookout, s3, unique_bucket):
    (folder / "hx-pump" / "notes.xlsx").write_bytes(b"PK\x03\x04\x00\x00binary")
    (folder / "motor" / "motor-b.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "motor" / "semicolons.csv").write_text("Timestamp;Power\n2026-01-04T00:00:00;1\n")
    with pytest.raises(lnb.DataFilesInvalid) as caught:
        lnb.create_dataset("not-csv", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    problems = {}
    for p in caught.value.problems:
        problems[p.path] = problems.get(p.path, "") + p.message
    assert set(problems) == {"hx-pump/notes.xlsx", "motor/motor-b.csv", "motor/semicolons.csv"}
    assert "not a .csv file" in problems["hx-pump/notes.xlsx"]
    assert "not a UTF-8 text file" in problems["motor/motor-b.csv"]
    assert "separates its columns with ';'" in problems["motor/semicolons.csv"]


def test_a_schema_that_does_not_match_the_files_names_the_file_and_column(folder, lookout, s3, unique_bucket):
    schema = {"hx-pump": ["Speed", "Flow", "Pressure", "Vibration", "Temperature"],
              "motor": ["Power", "Current", "WindingTemperature", "BearingTemperature"]}
    with pytest.raises(lnb.DataFilesInvalid) as caught:
        lnb.create_dataset("bad-schema", folder, schema=schema, bucket=unique_bucket, client=lookout, s3=s3,
                           progress=False)
    (problem,) = caught.value.problems
    assert problem.path == "hx-pump/hx-pump.csv" and "lacks the column Temperature" in problem.message
    assert "add what is missing to the file, or fix the schema" in problem.message

    # The same files already on S3: nothing to check locally, so the ingestion FAILS naming file and column.
    lnb.create_dataset("on-s3", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    ds = lnb.create_dataset("bad-schema", f"s3://{unique_bucket}/on-s3/", schema=schema, client=lookout)
    with pytest.raises(lnb.JobFailed) as failed:
        lnb.ingest(ds, role_arn=ROLE, client=lookout, poll=0.1, progress=False)
    assert failed.value.result.status == "FAILED"
    assert f"{unique_bucket}/on-s3/" in str(failed.value)
    assert "on-s3/hx-pump/hx-pump.csv lacks the column Temperature" in failed.value.result.failed_reason
    assert lnb.describe_dataset("bad-schema", client=lookout).status == "CREATED"  # a FAILED job ingests nothing


def test_unsupported_timestamps_are_named_with_their_row_and_counted_when_sent_anyway(folder, lookout, s3,
                                                                                      unique_bucket):
    path = folder / "motor" / "motor.csv"
    lines = path.read_text().splitlines()
    lines[3] = "05/01/2026 at noon" + lines[3][lines[3].index(","):]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(lnb.DataFilesInvalid) as caught:
        lnb.create_dataset("times", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    message = str(caught.value)
    assert "motor/motor.csv" in message and "'05/01/2026 at noon' on data row 3" in message
    assert "check=False" in message

    ds = lnb.create_dataset("times", folder, bucket=unique_bucket, check=False, client=lookout, s3=s3,
                            progress=False)
    job = lnb.ingest(ds, role_arn=ROLE, client=lookout, poll=0.1, progress=False)
    counts = job.quality_table().set_index("check")["count"]
    assert job.status == "SUCCESS" and counts["UnsupportedTimestamps"] == 1


def test_an_s3_prefix_with_a_ragged_file_ingests_the_others_and_lists_it_as_discarded(folder, lookout, s3,
                                                                                      unique_bucket):
    ds = lnb.create_dataset("s3-data", folder, bucket=unique_bucket, prefix="raw", client=lookout, s3=s3,
                            progress=False)
    s3.put_object(Bucket=unique_bucket, Key="raw/motor/zz-ragged.csv",
                  Body=b"Timestamp,Power\n2026-01-04T00:00:00,1,2,3\n")
    job = lnb.ingest("s3-data", f"s3://{unique_bucket}/raw/", role_arn=ROLE, client=lookout, poll=0.1,
                     progress=False)
    assert ds.source == f"s3://{unique_bucket}/raw/"
    assert job.status == "SUCCESS" and job.discarded_files == (f"s3://{unique_bucket}/raw/motor/zz-ragged.csv",)
    assert "raw/motor/zz-ragged.csv is not well-formed CSV" in job.status_detail


def test_layout_and_place_mistakes_say_what_to_do(tmp_path, folder, lookout, s3):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "pump.csv").write_text("Timestamp,Flow\n2026-01-01T00:00:00,1\n")
    with pytest.raises(lnb.InvalidArgument, match=r"has pump.csv at its top: move each component's files into a "
                                                  r"sub-folder named after the component"):
        lnb.create_dataset("flat", flat, bucket="whatever", client=lookout, s3=s3)
    with pytest.raises(lnb.InvalidArgument, match=r"source: '.*no-such-folder' is not a folder"):
        lnb.create_dataset("none", tmp_path / "no-such-folder", bucket="whatever", client=lookout, s3=s3)
    with pytest.raises(lnb.InvalidArgument, match=r"bucket: a local folder is uploaded to S3"):
        lnb.create_dataset("no-bucket", folder, client=lookout, s3=s3)
    with pytest.raises(lnb.InvalidArgument, match=r"bucket: s3://no-such-bucket-here cannot be used .* create the "):
        lnb.create_dataset("no-bucket", folder, bucket="no-such-bucket-here", client=lookout, s3=s3, progress=False)
    with pytest.raises(lnb.InvalidArgument, match=r"source: 'pump-data' is not an S3 location"):
        lnb.ingest("pump-data", "pump-data", role_arn=ROLE, client=lookout)
    with pytest.raises(lnb.ResourceNotFound, match="Dataset nope does not exist"):
        lnb.ingest("nope", "s3://bucket/p/", role_arn=ROLE, client=lookout)


def test_a_wait_that_does_not_end_names_the_job_and_the_way_out():
    ticks = iter(range(0, 100, 10))
    clock = _wait.WaitClock(monotonic=lambda: next(ticks), sleep=lambda s: None)
    with pytest.raises(lnb.WaitTimeout) as caught:
        _wait.wait_while(lambda: {"Status": "IN_PROGRESS"}, "IN_PROGRESS", what="ingestion job j1 of dataset d",
                         timeout=30, poll=5, progress=False, clock=clock)
    assert caught.value.last_status == "IN_PROGRESS"
    assert str(caught.value).startswith("ingestion job j1 of dataset d is still IN_PROGRESS after 30 s")


def test_a_name_taken_with_another_schema_is_a_conflict_and_uploads_nothing(folder, lookout, s3, unique_bucket):
    lnb.create_dataset("taken", schema={"pump": ["Flow"]}, client=lookout)
    with pytest.raises(lnb.ResourceConflict, match=r"dataset 'taken' already exists with another schema: choose "
                                                   r"another name, or delete it first \(delete_dataset\('taken'\)\)"):
        lnb.create_dataset("taken", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    assert keys(s3, unique_bucket) == []


def test_times_in_tables_are_utc(folder, lookout, s3, unique_bucket):
    lnb.create_dataset("utc", folder, bucket=unique_bucket, client=lookout, s3=s3, progress=False)
    table = lnb.list_datasets(name_prefix="utc", client=lookout)
    assert table["created_at"].iloc[0] == pd.Timestamp("2026-01-05T09:00:00Z")
