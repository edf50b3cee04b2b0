"""companyfacts normalization throughput against parse-only with orjson, same bytes, same run.

Data: the bundled sample's 13 real companyfacts documents (193,912 facts) copied under new
CIKs until the copies reach BENCH_NORMALIZE_MB megabytes of JSON (default 1024). A copy's CIK
is the original's with a three-digit replica number in place of its leading zeros, rewritten
in the verbatim bytes (pretty-printed files stay pretty-printed); nothing else changes. The
copies are stored gzip-compressed, as in the raw zone, in a temporary directory removed at exit.

Measured in CPU seconds of the measuring process (the host may be shared), one core, file by
file, on the same decompressed bytes:
  parse      orjson.loads and nothing else (then freeing its result): the physical limit, run with
             the cycle collector paused, as normalization runs, so the limit is as high as it gets;
  normalize  ingest.sec.normalize.normalize_companyfacts: the typed Arrow table of the staged schema;
  edgartools EntityFactsParser.parse_company_facts(orjson.loads(b)).to_dataframe(include_metadata=True)
             on the 13 original files (skipped, with the reason, when it cannot be imported).
Then the normalize stage as it runs on a filer's raw object: gunzip, normalize, write the
staged Parquet, in 2 worker processes over all copies: the figure behind the extrapolated time
for the full SEC universe (~18 GB of companyfacts JSON, ~18.8k filers) on 2 cores.
"""

from __future__ import annotations

import gc
import gzip
import multiprocessing
import os
import re
import tempfile
import time
from pathlib import Path

import orjson

from ingest.sec.normalize import normalize_companyfacts
from ingest.settings import BUNDLED_SAMPLE_DIR
from ingest.zones.staged import write_staged
from ingest.zones.store import LocalStore

TARGET_MB = float(os.environ.get("BENCH_NORMALIZE_MB", "1024"))
UNIVERSE_BYTES = 18e9
UNIVERSE_FILERS = 18_800
WORKERS = 2
ROUNDS = 2
TARGET_RATIO = 0.5
_CIK = re.compile(rb'("cik"\s*:\s*"?)(\d+)')


def originals() -> list[tuple[str, bytes]]:
    paths = sorted((BUNDLED_SAMPLE_DIR / "edgar" / "companyfacts").glob("CIK*.json.gz"))
    return [(p.name[3:13], gzip.decompress(p.read_bytes())) for p in paths]


def count_facts(raw: bytes) -> int:
    doc = orjson.loads(raw)
    return sum(len(rows) for tags in doc["facts"].values() for c in tags.values() for rows in c["units"].values())


def write_copies(sources: list[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Replicas of every source under new CIKs until TARGET_MB of JSON; gzip level 1 to be quick."""
    per_set = sum(len(b) for _, b in sources)
    sets = max(1, -(-int(TARGET_MB * 1e6) // per_set))
    if sets > 999:
        raise SystemExit("BENCH_NORMALIZE_MB too large for three-digit replica numbers")
    paths = []
    for n in range(1, sets + 1):
        for cik, body in sources:
            new_cik = f"{n:03d}{cik[3:]}"
            head = body[:400]
            m = _CIK.search(head)
            assert m is not None and m.group(2).lstrip(b"0") == cik.lstrip("0").encode(), cik
            digits = new_cik.encode() if b'"' in m.group(1)[-1:] else str(int(new_cik)).encode()
            copy = head[: m.start(2)] + digits + head[m.end(2) :] + body[400:]
            path = folder / f"CIK{new_cik}.json.gz"
            path.write_bytes(gzip.compress(copy, compresslevel=1))
            paths.append(path)
    return paths


def timed(fn, arg) -> float:
    """CPU seconds of this process spent in ``fn(arg)`` and in releasing what it returned (a parse
    that never frees its millions of objects would not get through 18 GB); on a shared host,
    other processes' work does not count."""
    gc.disable()
    try:
        start = time.process_time()
        fn(arg)
        return time.process_time() - start
    finally:
        gc.enable()


def one_pass(paths: list[Path], fn) -> tuple[float, int]:
    """Seconds ``fn`` spends on every file's JSON (decompressing is not timed), and the JSON bytes."""
    seconds, size = 0.0, 0
    for path in paths:
        raw = gzip.decompress(path.read_bytes())
        size += len(raw)
        seconds += timed(fn, raw)
    return seconds, size


def one_core(paths: list[Path]) -> tuple[float, float, int]:
    """Best-of-ROUNDS seconds of parse-only and of normalize over every file, and the JSON bytes.
    Whole passes alternate (per-file interleaving would make each pay for the other's freed
    memory); the best pass of each counts, the host being shared."""
    parse, normalize = [], []
    for _ in range(ROUNDS):
        seconds, size = one_pass(paths, orjson.loads)
        parse.append(seconds)
        normalize.append(one_pass(paths, normalize_companyfacts)[0])
    return min(parse), min(normalize), size


def edgartools_seconds(sources: list[tuple[str, bytes]]) -> tuple[float | None, str]:
    try:
        from edgar.entity.parser import EntityFactsParser
    except ImportError as exc:
        return None, f"not importable ({exc})"

    def to_table(raw: bytes):
        return EntityFactsParser.parse_company_facts(orjson.loads(raw)).to_dataframe(include_metadata=True)

    rows = sum(len(to_table(b)) for _, b in sources[:1])  # warm its lazy imports
    assert rows > 0
    return sum(timed(to_table, b) for _, b in sources), "EntityFactsParser -> to_dataframe(include_metadata=True)"


def _stage(args: tuple[str, str]) -> tuple[int, int, float]:
    """The normalize stage for one raw object: gunzip, normalize, write staged Parquet.
    Returns JSON bytes, facts and the CPU seconds it took."""
    path, store_root = args
    start = time.process_time()
    raw = gzip.decompress(Path(path).read_bytes())
    table = normalize_companyfacts(raw)
    write_staged(LocalStore(Path(store_root)), "facts", table["cik"][0].as_py(), table)
    return len(raw), table.num_rows, time.process_time() - start


def _warm(_: int) -> None:
    normalize_companyfacts(b'{"cik": 1, "facts": {}}')


def two_cores(paths: list[Path], store_root: Path) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, JSON bytes and facts of the stage over every file in WORKERS processes."""
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        pool.map(_warm, range(WORKERS))  # start-up and imports are not the stage's cost
        start = time.perf_counter()
        done = pool.map(_stage, [(str(p), str(store_root)) for p in paths], chunksize=2)
        elapsed = time.perf_counter() - start
    return elapsed, sum(c for _, _, c in done), sum(b for b, _, _ in done), sum(n for _, n, _ in done)


def main() -> None:
    sources = originals()
    facts_per_set = sum(count_facts(b) for _, b in sources)
    with tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp:
        folder = Path(tmp) / "companyfacts"
        folder.mkdir()
        paths = write_copies(sources, folder)
        sets = len(paths) // len(sources)
        facts = facts_per_set * sets
        parse_s, normalize_s, size = one_core(paths)
        mb = size / 1e6
        print(
            f"data: {mb:,.0f} MB of companyfacts JSON, {facts:,} facts in {len(paths)} files = the sample's "
            f"{len(sources)} real documents ({facts_per_set:,} facts) copied {sets} times under new CIKs"
        )
        parse_rate, normalize_rate = facts / parse_s, facts / normalize_s
        print(f"parse only (orjson), 1 core: {parse_s:6.1f} s  {mb / parse_s:7.1f} MB/s  {parse_rate:12,.0f} facts/s")
        print(
            f"normalize,            1 core: {normalize_s:6.1f} s  {mb / normalize_s:7.1f} MB/s  "
            f"{normalize_rate:12,.0f} facts/s"
        )

        own_s = sum(timed(normalize_companyfacts, b) for _, b in sources)
        edgar_s, how = edgartools_seconds(sources)
        if edgar_s is None:
            print(f"edgartools: skipped: {how}")
        else:
            print(
                f"edgartools ({how}), 1 core, the {len(sources)} originals: {edgar_s:5.2f} s "
                f"{facts_per_set / edgar_s:12,.0f} facts/s; normalize on the same files: {own_s:5.2f} s, "
                f"{edgar_s / own_s:.1f}x faster"
            )

        wall_s, cpu_s, staged_bytes, staged_rows = two_cores(paths, Path(tmp) / "store")
        assert staged_bytes == size and staged_rows == facts, (staged_bytes, staged_rows)
        # Two dedicated cores do the CPU work in cpu_s / WORKERS; the wall time also shows the host's other load.
        print(
            f"normalize stage (gunzip + normalize + staged Parquet), {WORKERS} processes: wall {wall_s:6.1f} s "
            f"({staged_bytes / wall_s / 1e6:6.1f} MB/s), CPU {cpu_s:6.1f} s "
            f"({staged_rows / cpu_s:,.0f} facts/s per core)"
        )
        for label, seconds in (("wall time", wall_s), ("CPU time", cpu_s / WORKERS)):
            universe_s = UNIVERSE_BYTES / (staged_bytes / seconds)
            print(
                f"full universe (~{UNIVERSE_BYTES / 1e9:.0f} GB of companyfacts JSON, ~{UNIVERSE_FILERS:,} filers) "
                f"on {WORKERS} cores, from the {label}: ~{universe_s / 60:.1f} min (target < 10 min)"
            )
    ratio = normalize_rate / parse_rate
    print(f"ratio normalize/parse-only: {ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"BENCH normalize facts_per_s={normalize_rate:.0f} ratio={ratio:.2f} target={TARGET_RATIO}")


if __name__ == "__main__":
    main()
