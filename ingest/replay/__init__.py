"""The local stand-in for SEC and Yahoo: a real HTTP server over a sample-layout directory.

Used by sample mode (through ``ingest.endpoints``) and by tests; nothing else imports it. It may
import only ``ingest.settings``.
"""

from ingest.replay.server import YAHOO_CRUMB, Faults, RecordedRequest, ReplayServer

__all__ = ["YAHOO_CRUMB", "Faults", "RecordedRequest", "ReplayServer"]
