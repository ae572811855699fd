"""Where the peer config comes from before the Operator: env names the API, a mode-600 file the token."""

from __future__ import annotations

import pytest

from gefyra.errors import ConfigError
from gefyra.stowaway.peers import ENV_TOKEN_FILE, ENV_URL, peer_source_from_env, read_token


def test_no_url_means_no_source():
    assert peer_source_from_env({}) is None


def test_url_without_token_file_is_an_error():
    with pytest.raises(ConfigError, match=ENV_TOKEN_FILE):
        peer_source_from_env({ENV_URL: "http://127.0.0.1:1"})


def test_source_from_env(tmp_path):
    source = peer_source_from_env({ENV_URL: "http://127.0.0.1:1/", ENV_TOKEN_FILE: str(tmp_path / "t")})
    assert source.url == "http://127.0.0.1:1" and source.token_file == tmp_path / "t"
    assert repr(source) == "StowawayPeerSource('http://127.0.0.1:1')"


def test_token_file_readable_by_others_is_refused(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others") as caught:
        read_token(token)
    assert caught.value.hint == f"chmod 600 {token}"
    token.chmod(0o600)
    secret = read_token(token)
    assert secret.get_secret_value() == "s3cret-token" and "s3cret" not in repr(secret)


def test_empty_or_missing_token_file(tmp_path):
    empty = tmp_path / "empty"
    empty.touch(mode=0o600)
    with pytest.raises(ConfigError, match="empty"):
        read_token(empty)
    with pytest.raises(ConfigError, match="cannot read"):
        read_token(tmp_path / "missing")
