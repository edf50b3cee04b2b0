"""The functions each DAG task calls, with typed payloads (payloads.py) between them: the only
package that imports both ingest and quality, and that dags/ may import. Its package and
params.py stay light, since DAG files import them at parse time; the rest is imported when a
task runs.
"""
