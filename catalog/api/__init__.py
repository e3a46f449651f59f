"""The REST API under /api/v1/, compatible with the seed's Events API."""
