"""Benchmark: what SigV4 verification (``start(credentials=...)``) costs a request.

Figures printed, each against the baseline measured in the same run (the same call on an endpoint without
credentials, both endpoints up at once and measured in alternating rounds so that the machine's load hits both
alike): milliseconds per call (best of 5 rounds) and the ratio, for
- a bare S3 GET of a small object (the cheapest request there is, so the ratio is the worst case),
- a PUT of a 1 MiB object (the verifier reads and hashes the body),
- a Lookout ListModels call;
and the verifier alone (``Verifier.refusal`` of a signed GET, in process): microseconds per request.

Run: ``python benchmarks/bench_auth.py``
"""

from __future__ import annotations

import io

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lookout_nb.service import start
from lookout_nb.service.http.auth import Verifier
from timer import best

BODY = b"x" * (1 << 20)
CALLS = {"GET of a 10-byte object": 200, "PUT of a 1 MiB object": 30, "Lookout ListModels": 200}


def calls(ep) -> dict:
    s3, lookout = ep.s3(), ep.lookout()
    s3.create_bucket(Bucket="bench-auth")
    s3.put_object(Bucket="bench-auth", Key="small", Body=b"0123456789")
    return {
        "GET of a 10-byte object": lambda: s3.get_object(Bucket="bench-auth", Key="small")["Body"].read(),
        "PUT of a 1 MiB object": lambda: s3.put_object(Bucket="bench-auth", Key="big", Body=BODY),
        "Lookout ListModels": lambda: lookout.list_models(),
    }


def verifier_alone(n: int = 2000) -> float:
    """Microseconds per ``Verifier.refusal`` of a signed S3 GET."""
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/bench-auth/small")
    S3SigV4Auth(Credentials("bench", "bench-secret"), "s3", "us-east-1").add_auth(request)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/bench-auth/small", "RAW_URI": "/bench-auth/small",
               "QUERY_STRING": "", "HTTP_HOST": "127.0.0.1:4566", "wsgi.input": io.BytesIO()}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in request.headers.items()})
    verifier = Verifier("bench", "bench-secret")
    assert verifier.refusal(dict(environ), s3=True) is None
    seconds, _ = best(lambda: [verifier.refusal(dict(environ), s3=True) for _ in range(n)], 3)
    return seconds / n * 1e6


def main() -> None:
    with start(port=0, clock="manual", demo=False) as plain_ep, \
            start(port=0, clock="manual", demo=False, credentials=("bench", "bench-secret")) as guarded_ep:
        plain, guarded = calls(plain_ep), calls(guarded_ep)
        for name, n in CALLS.items():
            times = {"plain": [], "guarded": []}
            for _ in range(5):  # alternate: the same load on both
                for label, fns in (("plain", plain), ("guarded", guarded)):
                    call = fns[name]
                    seconds, _ = best(lambda call=call, n=n: [call() for _ in range(n)], 1)
                    times[label].append(seconds / n * 1000)
            p, g = min(times["plain"]), min(times["guarded"])
            print(f"{name:24s} {p:6.2f} ms without verification, {g:6.2f} ms with: {g / p:.2f}x")
    print(f"the verifier alone: {verifier_alone():.0f} us per signed GET")


if __name__ == "__main__":
    main()
