"""The object store behaves the same on a local directory and on GCS (gcp-storage-emulator)."""

from __future__ import annotations

import uuid

import pytest

from ingest.zones.store import GCSStore, LocalStore, local_copies, open_store


@pytest.fixture(params=["local", "gcs"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    bucket = request.getfixturevalue("gcs_emulator")
    return open_store(f"gs://{bucket}/{uuid.uuid4().hex}")


def test_put_get_list_delete(store):
    store.put("raw/sec/a/x.json.gz", b"one")
    store.put("raw/sec/b/y.json.gz", b"two")
    store.put("staged/facts/CIK0000320193.parquet", b"three")
    assert store.get("raw/sec/a/x.json.gz") == b"one"
    assert store.list("raw/") == ["raw/sec/a/x.json.gz", "raw/sec/b/y.json.gz"]
    assert store.exists("staged/facts/CIK0000320193.parquet")
    assert not store.exists("staged/facts/CIK0000000001.parquet")
    store.delete_prefix("raw/sec/a/")
    assert store.list("raw/") == ["raw/sec/b/y.json.gz"]


def test_put_if_absent_never_rewrites(store):
    assert store.put_if_absent("raw/x", b"first") is True
    assert store.put_if_absent("raw/x", b"second") is False
    assert store.get("raw/x") == b"first"


def test_uri_and_local_copies(store):
    store.put("staged/facts/a.parquet", b"abc")
    uri = store.uri("staged/facts/a.parquet")
    assert uri.startswith("gs://") if isinstance(store, GCSStore) else uri.endswith("staged/facts/a.parquet")
    with local_copies(store, ["staged/facts/a.parquet"]) as paths:
        assert open(paths[0], "rb").read() == b"abc"


def test_key_is_the_inverse_of_uri_and_refuses_other_addresses(store, tmp_path):
    key = "quality/staged/run_id=manual__2026-11-20T00:00:00+00:00/staged_facts/result.json"
    assert store.key(store.uri(key)) == key
    elsewhere = "gs://another-bucket/quality/x.json" if isinstance(store, GCSStore) else str(tmp_path / "other" / "x")
    assert store.key(elsewhere) is None


def test_local_store_rejects_escaping_keys(tmp_path):
    with pytest.raises(ValueError):
        LocalStore(tmp_path).put("../outside", b"x")


def test_unsupported_url():
    with pytest.raises(ValueError, match="unsupported storage URL"):
        open_store("s3://bucket/x")
