"""OpenAPI schema tweaks."""


def strip_trailing_slashes(result, generator, request, public):
    """Show the paths as the seed writes them (`/api/v1/event/events`); both forms work."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
