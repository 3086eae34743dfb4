"""ModelSchema: one reader for every form a model's schema takes."""

import json

import numpy as np
import pandas as pd
import pytest

from lookout_nb.contract.schema import ModelSchema, SchemaError

SCHEMA = {"Components": [
    {"ComponentName": "centrifugal-pump", "Columns": [{"Name": "Timestamp", "Type": "DATETIME"},
                                                      {"Name": "Flow", "Type": "DOUBLE"},
                                                      {"Name": "Vibration", "Type": "DOUBLE"}]},
    {"ComponentName": "motor", "Columns": [{"Name": "Time", "Type": "DATETIME"},
                                           {"Name": "Current", "Type": "DOUBLE"}]},
]}


@pytest.mark.parametrize("source", [SCHEMA, json.dumps(SCHEMA), {"ModelName": "m", "Schema": json.dumps(SCHEMA)}])
def test_every_form_of_describe_model_gives_the_same_schema(source):
    schema = ModelSchema.parse(source)
    assert schema.names == ("centrifugal-pump", "motor")
    assert schema.columns["motor"] == ("Time", "Current")
    assert schema.sensors == {"centrifugal-pump": ("Flow", "Vibration"), "motor": ("Current",)}


def test_a_mapping_of_sensors_round_trips_through_json():
    schema = ModelSchema.parse({"pump": ["Flow", "Vibration"], "motor": ["Current"]})
    again = ModelSchema.parse(schema.to_json())
    assert again == schema
    assert json.loads(schema.to_json())["Components"][0]["Columns"][1] == {"Name": "Flow", "Type": "DOUBLE"}


@pytest.mark.parametrize("names", [["a", "b"], ("a", "b"), pd.Index(["a", "b"]), np.array(["a", "b"])])
def test_a_list_of_names(names):
    assert ModelSchema.parse(names).names == ("a", "b")


@pytest.mark.parametrize("source, words", [
    ("pump", "pass ['pump']"),
    ({"Components": 3}, '"Components" list'),
    ({"Components": [{"ComponentName": "a", "Columns": [{"Name": 3}]}]}, "column name"),
    (["a", "a"], "a repeated"),
    (["a", ""], "non-empty string"),
    (7, "not int"),
])
def test_unreadable_schemas_say_what_was_expected(source, words):
    with pytest.raises(SchemaError, match=words.replace("[", r"\[").replace("]", r"\]")):
        ModelSchema.parse(source)
