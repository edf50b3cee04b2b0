"""The object store: a local directory or a GCS bucket, behind one small interface.

Keys are '/'-separated paths relative to ``EDGARFLOW_STORAGE_URL``; zones (raw/,
staged/, quarantine/, quality/) are key prefixes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol


class ObjectStore(Protocol):
    url: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write only if nothing is stored at ``key``; True when written."""
        ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""
        ...

    def delete_prefix(self, prefix: str) -> None: ...

    def uri(self, key: str) -> str:
        """Address of ``key`` for engines that read the store directly (DuckDB, BigQuery)."""
        ...

    def key(self, uri: str) -> str | None:
        """The key ``uri`` addresses (``uri``'s inverse); None for an address outside this store."""
        ...


class LocalStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename so readers never see a partial object.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)

    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as tmp:
            tmp.write(data)
        try:
            os.link(tmp.name, path)  # atomic create-if-absent
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp.name)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def key(self, uri: str) -> str | None:
        path = Path(uri).resolve()
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else None


class GCSStore:
    """gs://bucket/prefix through google-cloud-storage (honours STORAGE_EMULATOR_HOST)."""

    def __init__(self, url: str, client=None):
        from google.cloud import storage

        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        self.url = url.rstrip("/")
        self._prefix = prefix.strip("/")
        self._client = client or storage.Client()
        self._bucket = self._client.bucket(bucket)

    def _name(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._bucket.blob(self._name(key)).upload_from_string(data, content_type=content_type)

    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._bucket.blob(self._name(key))
        if blob.exists():  # skips the upload; also all that gcp-storage-emulator can enforce
            return False
        try:
            # generation 0 = "only if no live object": GCS itself refuses a concurrent second writer.
            blob.upload_from_string(data, content_type=content_type, if_generation_match=0)
            return True
        except PreconditionFailed:
            return False

    def get(self, key: str) -> bytes:
        return self._bucket.blob(self._name(key)).download_as_bytes()

    def exists(self, key: str) -> bool:
        return self._bucket.blob(self._name(key)).exists()

    def list(self, prefix: str) -> list[str]:
        strip = len(self._prefix) + 1 if self._prefix else 0
        return sorted(b.name[strip:] for b in self._client.list_blobs(self._bucket, prefix=self._name(prefix)))

    def delete_prefix(self, prefix: str) -> None:
        for blob in self._client.list_blobs(self._bucket, prefix=self._name(prefix)):
            blob.delete()

    def uri(self, key: str) -> str:
        return f"gs://{self._bucket.name}/{self._name(key)}"

    def key(self, uri: str) -> str | None:
        root = f"gs://{self._bucket.name}/" + (f"{self._prefix}/" if self._prefix else "")
        return uri.removeprefix(root) if uri.startswith(root) else None


def open_store(url: str) -> ObjectStore:
    if url.startswith("gs://"):
        return GCSStore(url)
    if "://" in url:
        raise ValueError(f"unsupported storage URL {url!r}: use a local directory or gs://bucket/prefix")
    return LocalStore(url)


@contextmanager
def local_copies(store: ObjectStore, keys: list[str]) -> Iterator[list[str]]:
    """Local file paths for ``keys``: the files themselves for a local store, temporary copies otherwise."""
    if isinstance(store, LocalStore):
        yield [store.uri(k) for k in keys]
        return
    with tempfile.TemporaryDirectory(prefix="edgarflow-") as tmp:
        paths = []
        for i, key in enumerate(keys):
            path = Path(tmp) / f"{i:06d}-{Path(key).name}"
            path.write_bytes(store.get(key))
            paths.append(str(path))
        yield paths
