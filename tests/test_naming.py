"""The input-file naming convention, from the user guide's worked examples (input file names) both ways."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lookout_nb import NamingError, detect_naming, input_key, parse_input_key
from lookout_nb.contract.naming import Naming, expected_keys, format_offset, parse_offset

START = pd.Timestamp("2022-03-30 11:00", tz="UTC")

# The user guide's table: a window starting 2022-03-30T11:00:00Z, component centrifugal-pump.
EXAMPLES = [
    ("_", "yyyyMMddHHmmss", "+00:00", "centrifugal-pump_20220330110000.csv"),
    ("_", "yyyyMMddHHmmss", "+05:30", "centrifugal-pump_20220330163000.csv"),
    ("-", "yyyy-MM-dd-HH-mm-ss", "+00:00", "centrifugal-pump-2022-03-30-11-00-00.csv"),
    ("_", "EPOCH", "+00:00", "centrifugal-pump_1648638000.csv"),
    ("", "yyyyMMddHHmmss", "-08:00", "centrifugal-pump20220330030000.csv"),
    (" ", "yyyyMMddHHmmss", "+00:00", "centrifugal-pump 20220330110000.csv"),
]


@pytest.mark.parametrize("delimiter, fmt, offset, name", EXAMPLES)
def test_reference_examples_both_ways(delimiter, fmt, offset, name):
    assert input_key("centrifugal-pump", START, fmt, delimiter, offset) == name
    assert parse_input_key("bucket/prefix/" + name, fmt, delimiter, offset) == ("centrifugal-pump", START)


def test_epoch_names_ignore_the_offset():
    assert input_key("p", START, "EPOCH", "_", "+05:30") == "p_1648638000.csv"
    assert parse_input_key("p_1648638000.csv", "EPOCH", "_", "+05:30")[1] == START


def test_component_names_may_contain_the_delimiter():
    name = input_key("pump_a_1", START, delimiter="_")
    assert parse_input_key("in/" + name) == ("pump_a_1", START)


def test_naive_times_are_utc_and_aware_times_are_converted():
    assert input_key("p", "2022-03-30 11:00") == input_key("p", pd.Timestamp("2022-03-30 13:00", tz="Europe/Paris"))


@pytest.mark.parametrize(
    "key",
    ["pump-20220330110000.csv", "pump_20220330110000.txt", "pump_2022033011000.csv", "_20220330110000.csv",
     "pump_20221330110000.csv", "pump_20220330110000.csv.gz"],
)
def test_wrong_names_raise_with_an_example(key):
    with pytest.raises(NamingError, match=r"pump_20220330110000\.csv"):
        parse_input_key(key)


def test_bad_naming_settings_name_the_member():
    with pytest.raises(NamingError, match="TimestampFormat"):
        Naming("epoch")
    with pytest.raises(NamingError, match="ComponentTimestampDelimiter"):
        Naming(delimiter="--")
    with pytest.raises(NamingError, match="InputTimeZoneOffset"):
        Naming(timezone_offset="+5:30")


def test_offsets():
    assert parse_offset("+05:30") == pd.Timedelta(hours=5, minutes=30)
    assert parse_offset("-03:30") == -pd.Timedelta(hours=3, minutes=30)
    assert parse_offset(None) == pd.Timedelta(0)
    assert format_offset(parse_offset("-09:30")) == "-09:30"
    for bad in ["+15:00", "-12:30", "+05:60", "05:30", "+5:30"]:
        with pytest.raises(NamingError):
            parse_offset(bad)


def test_parse_many_marks_non_matching_keys():
    n = Naming(timezone_offset="+05:30")
    table = n.parse_many(["in/a_20220330163000.csv", "in/readme.txt", "in/a_20229999000000.csv"])
    assert table["matches"].tolist() == [True, False, False]
    assert table.loc[0, "component"] == "a"
    assert table.loc[0, "time_utc"] == START
    assert table.loc[0, "time_local"] == pd.Timestamp("2022-03-30 16:30")
    assert table["time_utc"].isna().tolist() == [False, True, True]


def test_parse_many_of_no_keys_is_an_empty_table():
    table = Naming().parse_many([])
    assert table.empty
    assert list(table.columns) == ["key", "folder", "component", "time_local", "time_utc", "matches"]


def test_valid_names_of_any_year_parse_exactly():
    table = Naming("EPOCH").parse_many(["a_9999999999.csv", "a_1648638000.csv"])
    assert table["matches"].tolist() == [True, True]
    assert table.loc[0, "time_utc"] == pd.Timestamp("2286-11-20 17:46:39", tz="UTC")
    far = Naming(timezone_offset="+05:30").parse_many(["a_99991231000000.csv", "a_00010101000000.csv"])
    assert far.loc[0, "time_utc"] == pd.Timestamp("9999-12-30 18:30", tz="UTC")
    assert far.loc[1, "matches"] and str(far.loc[1, "time_local"]) == "0001-01-01 00:00:00"


def test_parse_many_names_each_keys_folder():
    table = Naming().parse_many(["in/2024/a_20240101000000.csv", "a_20240101000000.csv", "in/readme", "in/x/a.csv"])
    assert table["folder"].tolist() == ["in/2024/", "", "in/", "in/x/"]


def test_expected_keys_grid():
    grid = expected_keys(Naming(), ["a", "b"], pd.date_range(START, periods=2, freq="5min"), prefix="in/")
    assert grid["key"].tolist() == [
        "in/a_20220330110000.csv", "in/a_20220330110500.csv", "in/b_20220330110000.csv", "in/b_20220330110500.csv",
    ]


@pytest.mark.parametrize("delimiter, fmt, offset, name", EXAMPLES)
def test_detect_naming_finds_each_convention(delimiter, fmt, offset, name):
    keys = [input_key(c, START + pd.Timedelta(minutes=5 * i), fmt, delimiter, offset, prefix="in/")
            for c in ("centrifugal-pump", "motor") for i in range(6)]
    best = detect_naming(keys + ["in/notes.txt"])[0]
    assert (best.timestamp_format, best.delimiter) == (fmt, delimiter)
    assert best.components == ("centrifugal-pump", "motor")
    assert best.share == pytest.approx(12 / 13)


def test_detect_naming_uses_known_components_to_settle_ambiguity():
    keys = ["pump-a_20220330110000.csv", "pump-b_20220330110000.csv"]
    assert detect_naming(keys, components=["pump-a", "pump-b"])[0].components == ("pump-a", "pump-b")
    assert detect_naming(keys, components=["other"]) == []


def test_detect_naming_of_nothing_useful():
    assert detect_naming([]) == []
    assert detect_naming(["a.txt", "b.csv"]) == []


def test_detected_candidate_becomes_a_naming():
    best = detect_naming(["p-2022-03-30-16-30-00.csv"])[0]
    assert best.naming("+05:30").parse("p-2022-03-30-16-30-00.csv") == ("p", START)


components = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
times = st.datetimes(min_value=pd.Timestamp("2001-09-10").to_pydatetime(),
                     max_value=pd.Timestamp("2200-01-01").to_pydatetime())
offsets = st.sampled_from(["+00:00", "+05:30", "-08:00", "+14:00", "-12:00", "+09:45"])


@settings(max_examples=200, deadline=None)
@given(component=components, time=times, fmt=st.sampled_from(["yyyyMMddHHmmss", "yyyy-MM-dd-HH-mm-ss", "EPOCH"]),
       delimiter=st.sampled_from(["_", "-", " ", "\t"]), offset=offsets)
def test_key_and_parse_are_inverse(component, time, fmt, delimiter, offset):
    slot = pd.Timestamp(time).floor("s").tz_localize("UTC")
    n = Naming(fmt, delimiter, offset)
    assert n.parse("some/prefix/" + n.key(component, slot)) == (component, slot)
    table = n.parse_many([n.key(component, slot)])
    assert table.loc[0, "time_utc"] == slot and table.loc[0, "component"] == component
