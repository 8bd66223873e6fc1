"""Who may read the dashboard: the bind-address rule and HTTP basic credentials (no I/O)."""

from __future__ import annotations

import base64

import pytest

from bitmapist_async.cohort._access import (
    CREDENTIALS_ENV,
    AccessError,
    authorized,
    bind_credentials,
    is_loopback,
    parse_credentials,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.2", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.4", False),
     ("example.com", False), ("localhost.example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_host_needs_credentials_or_public() -> None:
    assert bind_credentials("127.0.0.1", {}, public=False) is None
    assert bind_credentials("0.0.0.0", {}, public=True) is None
    with pytest.raises(AccessError, match=r"--host 0\.0\.0\.0 is reachable from other machines"):
        bind_credentials("0.0.0.0", {}, public=False)
    env = {CREDENTIALS_ENV: "ana:pa:ss"}
    assert bind_credentials("0.0.0.0", env, public=False) == ("ana", "pa:ss")
    assert bind_credentials("127.0.0.1", env, public=False) == ("ana", "pa:ss")


@pytest.mark.parametrize("value", ["ana", "ana:", ":secret", ":"])
def test_malformed_credentials(value: str) -> None:
    with pytest.raises(AccessError, match="must be 'user:password'"):
        parse_credentials(value)
    with pytest.raises(AccessError):
        bind_credentials("0.0.0.0", {CREDENTIALS_ENV: value}, public=True)


def _basic(text: bytes) -> bytes:
    return b"Basic " + base64.b64encode(text)


def test_authorized() -> None:
    creds = ("ana", "s3cret")
    assert authorized(_basic(b"ana:s3cret"), creds)
    assert authorized(b"basic " + base64.b64encode(b"ana:s3cret"), creds)
    for header in (None, b"", _basic(b"ana:s3cre"), _basic(b"ana"), _basic(b"bob:s3cret"),
                   b"Basic !!!", b"Bearer " + base64.b64encode(b"ana:s3cret")):  # fmt: skip
        assert not authorized(header, creds)
