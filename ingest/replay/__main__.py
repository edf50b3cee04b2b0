"""``python -m ingest.replay``: serve a sample-layout directory on loopback as SEC and Yahoo would."""

from __future__ import annotations

import argparse
from pathlib import Path

from ingest.replay.server import ReplayServer
from ingest.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a sample-layout directory as SEC and Yahoo would.")
    parser.add_argument(
        "--sample-dir", type=Path, default=None, help="default: EDGARFLOW_SAMPLE_DIR or the bundled sample"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)

    server = ReplayServer(args.sample_dir or Settings().sample_dir, host=args.host, port=args.port)
    print(f"serving {server.sample_dir} at {server.base_url} (Ctrl-C stops)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
