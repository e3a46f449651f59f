"""The catalog pages: browse, search, read, edit and follow the catalog in a browser."""
