"""Schemathesis hook (scripts/schemathesis.ts sets SCHEMATHESIS_HOOKS): a fixture an operation deletes is created again.

Every phase tests the fixtures' paths (test/schemathesis/schemathesis.toml), so once one phase's DELETE
succeeded every later request on that path would be a 404: a successful DELETE of a fixture is followed
by the requests that create it (and what it held) again, listed by scripts/schemathesis.ts in the JSON
file DCM_SCHEMATHESIS_FIXTURES names.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request

import schemathesis

with open(os.environ["DCM_SCHEMATHESIS_FIXTURES"], encoding="utf-8") as handle:
    _FIXTURES = json.load(handle)


def _send(method: str, path: str, body: object) -> None:
    request = urllib.request.Request(
        _FIXTURES["base"] + path,
        method=method,
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as error:
        # 409: still there (e.g. a reference whose logical cloud was not deleted); 404: what it lived in
        # is gone too and is restored by its own DELETE's hook.
        if error.code not in (404, 409):
            raise RuntimeError(f"restoring fixture {method} {path}: {error.code} {error.read()!r}") from error


@schemathesis.hook
def after_call(context, case, response):
    if case.method.upper() != "DELETE" or not 200 <= response.status_code < 300:
        return
    # The stateful phase deletes what it created itself and then checks that it is gone
    # (use_after_free): nothing is restored there.
    if case.meta is not None and case.meta.phase.name.value == "stateful":
        return
    path = urllib.parse.unquote(urllib.parse.urlsplit(response.request.url).path).rstrip("/")
    for method, fixture_path, body in _FIXTURES["restore"].get(path, []):
        _send(method, fixture_path, body)
