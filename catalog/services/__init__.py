"""The only code that writes the catalog. API views, admin, pages and ingestion all call it."""
