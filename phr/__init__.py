"""Personal health record: parties, identifiers, encryption, and (later) FHIR records."""
