"""Tests for the API client: every credential here is a dummy."""
import pytest

from client import Client

DUMMY_PASSWORD = "test"
API_KEY = "dummy-api-key"
TOKEN = "fake-token-for-tests"


@pytest.fixture
def client():
    return Client(user="alice", password="password123", api_key="test_key", token="xxxxxxxxxxxxxxxx")


def test_login(client):
    assert client.login(password=DUMMY_PASSWORD) is True
    assert client.headers["Authorization"] == "Bearer " + TOKEN


def test_rejects_empty_token():
    with pytest.raises(ValueError):
        Client(user="bob", password="", token="")


def test_secret_is_masked(client):
    client.secret = "changeme"
    assert "changeme" not in repr(client)
