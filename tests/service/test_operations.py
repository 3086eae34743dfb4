"""Every operation of botocore's lookoutequipment model is answered: a request naming nothing that exists gets a
typed 4xx error (or an answer), never UnknownOperationException or a 5xx; and the second half of the API
(UpdateModel, ListSensorStatistics, imports, resource policies) works as docs/endpoint.md says."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from datakit import create_dataset, frame, ingest, upload

from lookout_nb.service.http.protocol import OPERATIONS

MODEL = botocore.session.get_session().get_service_model("lookoutequipment")
ERRORS = {"AccessDeniedException", "ConflictException", "ResourceNotFoundException", "ServiceQuotaExceededException",
          "ThrottlingException", "ValidationException"}


def _value(shape):
    """A value of ``shape`` that names nothing existing (required members only)."""
    if shape.type_name == "structure":
        return {k: _value(shape.members[k]) for k in shape.required_members}
    if shape.type_name == "list":
        return []
    if shape.type_name in ("integer", "long"):
        return 1
    if shape.type_name == "timestamp":
        return datetime(2026, 1, 5, tzinfo=timezone.utc)
    if shape.type_name == "boolean":
        return True
    return shape.enum[0] if shape.enum else "nope-nothing"


def test_the_protocol_answers_every_operation_of_botocores_model():
    assert sorted(set(MODEL.operation_names) - set(OPERATIONS)) == []
    assert len(MODEL.operation_names) == 49


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_every_operation_answers_a_request_for_nothing_with_a_typed_client_error(endpoint, operation):
    client = boto3.client("lookoutequipment", region_name="us-east-1", endpoint_url=endpoint.url,
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    op = MODEL.operation_model(operation)
    params = _value(op.input_shape) if op.input_shape else {}
    method = getattr(client, botocore.xform_name(operation))
    try:
        method(**params)
    except ClientError as err:
        assert err.response["Error"]["Code"] in ERRORS, err.response
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _dataset(lookout, s3, bucket, name="stats-data"):
    columns = {"Flow": [float(i % 7) for i in range(120)], "Mode": [float(i % 2) for i in range(120)],
               "Counter": [float(i) for i in range(120)]}
    f = frame("2026-01-01T00:00:00", 120, columns)
    f.iloc[3, 0] = float("nan")
    upload(s3, bucket, {"pump": f})
    create_dataset(lookout, name, {"pump": list(columns)})
    return ingest(lookout, name, bucket)


def test_list_sensor_statistics_reports_each_sensor_of_the_ingestion(lookout, s3, unique_bucket):
    job = _dataset(lookout, s3, unique_bucket)
    assert job["Status"] == "SUCCESS"
    stats = lookout.list_sensor_statistics(DatasetName="stats-data", IngestionJobId=job["JobId"])
    by_name = {s["SensorName"]: s for s in stats["SensorStatisticsSummaries"]}
    assert set(by_name) == {"Flow", "Mode", "Counter"}
    assert by_name["Flow"]["MissingValues"] == {"Count": 1, "Percentage": pytest.approx(0.83)}
    assert by_name["Counter"]["MonotonicValues"] == {"Status": "POTENTIAL_ISSUE_DETECTED", "Monotonicity": "INCREASING"}
    assert by_name["Mode"]["CategoricalValues"] == {"Status": "POTENTIAL_ISSUE_DETECTED", "NumberOfCategory": 2}
    assert by_name["Flow"]["LargeTimestampGaps"]["Status"] == "NO_ISSUE_DETECTED"
    assert lookout.list_sensor_statistics(DatasetName="stats-data", MaxResults=2)["NextToken"]
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="no data ingestion job"):
        lookout.list_sensor_statistics(DatasetName="stats-data", IngestionJobId="0" * 32)


def test_import_dataset_copies_the_schema_and_the_data(endpoint, lookout, s3, unique_bucket):
    _dataset(lookout, s3, unique_bucket)
    source = lookout.describe_dataset(DatasetName="stats-data")
    copied = lookout.import_dataset(SourceDatasetArn=source["DatasetArn"], DatasetName="stats-copy")
    assert copied["Status"] == "ACTIVE" and copied["JobId"]
    described = lookout.describe_dataset(DatasetName="stats-copy")
    assert described["Schema"] == source["Schema"]
    data = endpoint.backend.datasets.dataset_data("us-east-1", "stats-copy").frames["pump"]
    assert data.shape == (120, 3)
    with pytest.raises(lookout.exceptions.ConflictException, match="already exists"):
        lookout.import_dataset(SourceDatasetArn=source["DatasetArn"], DatasetName="stats-copy")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException):
        lookout.import_dataset(SourceDatasetArn=source["DatasetArn"].replace("stats-data", "absent"))


def test_update_model_changes_labels_role_and_diagnostics_output(endpoint, lookout):
    endpoint.add_model("fan", {"fan": ["Speed"]}, "PT5M")
    lookout.create_label_group(LabelGroupName="fan-labels")
    role = "arn:aws:iam::123456789012:role/Other"
    output = {"S3OutputConfiguration": {"Bucket": "lookout-demo", "Prefix": "diagnostics/"}}
    lookout.update_model(ModelName="fan", LabelsInputConfiguration={"LabelGroupName": "fan-labels"}, RoleArn=role,
                         ModelDiagnosticsOutputConfiguration=output)
    model = lookout.describe_model(ModelName="fan")
    assert model["LabelsInputConfiguration"] == {"LabelGroupName": "fan-labels"}
    assert model["RoleArn"] == role and model["ModelDiagnosticsOutputConfiguration"] == output
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="absent"):
        lookout.update_model(ModelName="fan", LabelsInputConfiguration={"LabelGroupName": "absent"})


def test_import_model_version_copies_a_version_into_a_new_model(endpoint, lookout):
    endpoint.add_model("fan", {"fan": ["Speed"]}, "PT5M")
    source = lookout.describe_model(ModelName="fan")["ActiveModelVersionArn"]
    imported = lookout.import_model_version(SourceModelVersionArn=source, ModelName="fan-copy",
                                            DatasetName="fan-dataset")
    assert (imported["ModelVersion"], imported["Status"]) == (1, "SUCCESS")
    version = lookout.describe_model_version(ModelName="fan-copy", ModelVersion=1)
    assert version["SourceType"] == "IMPORT" and version["SourceModelVersionArn"] == source
    assert endpoint.backend.models.model("fan-copy").trained == endpoint.backend.models.model("fan").trained
    again = lookout.import_model_version(SourceModelVersionArn=source, ModelName="fan-copy", DatasetName="fan-dataset")
    assert again["ModelVersion"] == 2
    assert lookout.describe_model(ModelName="fan-copy")["ActiveModelVersion"] == 1


def test_resource_policies_are_validated_kept_with_a_revision_and_deleted(endpoint, lookout):
    arn = lookout.describe_model(ModelName="pump-demo")["ModelArn"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "lookoutequipment:ImportModelVersion", "Resource": arn}]})
    with pytest.raises(lookout.exceptions.ValidationException, match="Statement"):
        lookout.put_resource_policy(ResourceArn=arn, ResourcePolicy='{"Version": "2012-10-17"}')
    put = lookout.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy)
    described = lookout.describe_resource_policy(ResourceArn=arn)
    assert (described["ResourcePolicy"], described["PolicyRevisionId"]) == (policy, put["PolicyRevisionId"])
    with pytest.raises(lookout.exceptions.ConflictException, match="PolicyRevisionId"):
        lookout.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy)
    again = lookout.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy,
                                        PolicyRevisionId=put["PolicyRevisionId"])
    assert again["PolicyRevisionId"] != put["PolicyRevisionId"]
    lookout.delete_resource_policy(ResourceArn=arn)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="no resource policy"):
        lookout.describe_resource_policy(ResourceArn=arn)
