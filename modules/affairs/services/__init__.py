"""Business rules of the catalog: reading, searching, counting and editing items."""
