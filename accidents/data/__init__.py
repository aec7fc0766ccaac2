"""BAAC data: the schema and codes, reading the published files, the download, the data source.

Bottom layer of the domain: imports nothing else of ``accidents`` but ``errors``/``config``.
"""
