"""Tracking plans as files: the formats the plan is imported from and exported to, and the
code generated from it.

Pure code, no database: every format turns a file into a `Plan` (see `model`) and a `Plan`
into a file. Reading the catalog into a `Plan` is a selector's job, and applying one to the
catalog is the plan service's (`catalog.services.plan`).
"""
