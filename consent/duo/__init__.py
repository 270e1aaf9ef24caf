"""GA4GH Data Use Ontology (DUO): the vocabulary, the ICD-10 disease hierarchy and the matching engine.

Everything here is pure Python with no database or Django dependency, so the decision engine, the
public API, imports and benchmarks all share one implementation.
"""
