"""Operator commands for the local deployment: start and stop Airflow's services and the embedded
servers (`make airflow`, `make stop`), and run the sample pipeline with a short report (`make run`).

Imports ingest (settings, the embedded PostgreSQL) and pipelines (summaries); nothing imports ops.
"""
