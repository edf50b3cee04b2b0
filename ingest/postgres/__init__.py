"""The operational store: connection and migrations (sql/), the loader (COPY + merge), run
bookkeeping (pipeline_runs, quarantine, dq_results) and SEC extraction state. Imports the layers
below it (zones for the staged schemas, sec for its state records); never warehouse or quality.
"""
