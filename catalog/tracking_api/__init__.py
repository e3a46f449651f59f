"""Ingestion over HTTP: the trackers' wire formats, their keys, and the limits that protect us.

The pipeline itself (matching, validation, discovery, counting, logging) is
`catalog.services.ingest`; this package only turns requests into its input and its result
into each format's answer.
"""
