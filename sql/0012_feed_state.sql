-- 0012: how far SEC's daily index has been followed (ingest/sec/daily_index.py). A run that
-- covered the whole universe on day `covered_through` (a nightly, a full or bulk refresh)
-- records that day; the next nightly reads the daily indexes from that day on and asks SEC
-- only about the filers listed there. One row per run, trusted like edgar.source_state only
-- once the run has its successful summary, so a failed run never moves the mark.
CREATE TABLE IF NOT EXISTS edgar.feed_state (
    origin          text NOT NULL,
    feed            text NOT NULL,
    covered_through date NOT NULL,
    run_id          text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, feed, run_id)
);
