"""From the warehouse back to the serving side: the latest signals into PostgreSQL. Imports the
stores below it."""
