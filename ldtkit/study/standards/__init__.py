"""Open standards out: NGSI-LD entities (Smart Data Models), an upsert client, a DCAT-AP catalogue."""
