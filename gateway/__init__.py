"""OneStop gateway: composes pluggable modules into one GraphQL API over MongoDB and Redis."""

__version__ = "0.1.0"
