"""The README's "Your own S3" section runs as written, against a user's S3 in its own process (a moto_server)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "service"))

from s3server import CHAIN, UserS3  # noqa: E402


def readme_snippet() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Your own S3", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_points_the_endpoint_at_the_users_own_s3(monkeypatch):
    for name, value in CHAIN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with UserS3() as user:
        code = readme_snippet().replace('"http://127.0.0.1:9000"', repr(user.url))
        assert code != readme_snippet()
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
        assert namespace["job"]["Status"] == "IN_PROGRESS"
        found = user.client().get_object(Bucket="my-plant", Key="train/pump/pump.csv")["Body"].read()
        assert found == b"Timestamp,Flow\n"  # written into the user's S3, read back from it directly
