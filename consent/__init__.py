"""Consent and opt-out engine: regimes, directives, DUO terms, decisions, receipts, projects, ledger."""
