"""Records in: FHIR R4 resources read as a stream, validated entry by entry, classified, encrypted and indexed.

The network side (FHIR clients, SMART launch, the sync task) lives in ``phr.fhir``; it hands entries to
``phr.records.services.ingest`` like an upload does.
"""
