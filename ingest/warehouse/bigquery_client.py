"""The google-cloud-bigquery client every BigQuery reader and loader uses.

Against Google: the project and location of Settings and Application Default Credentials (the
workers' service account). With ``bq_api_endpoint`` set (a BigQuery emulator): that endpoint and
anonymous credentials, so no request can reach Google.
"""

from __future__ import annotations

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from ingest.settings import Settings


def bigquery_client(settings: Settings) -> bigquery.Client:
    if settings.bq_api_endpoint:
        return bigquery.Client(
            project=settings.bq_project,
            location=settings.bq_location,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=settings.bq_api_endpoint),
        )
    return bigquery.Client(project=settings.bq_project, location=settings.bq_location)
