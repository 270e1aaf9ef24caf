"""The network side of records in: FHIR R4 endpoints, SMART authorisation, and pulling a person's records.

Storage, validation and the ingest pipeline are ``phr.records``; this package fetches and hands over.
"""
