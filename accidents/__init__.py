"""Domain code for road-accident severity on the ONISR BAAC open data.

No ZenML import anywhere in this package: it is shared by the ZenML steps, the BentoML
service and the benchmarks, and must stay importable (and fast to import) on its own.
"""
