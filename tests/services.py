"""Session fixtures for real services: SeaweedFS (S3), PostgreSQL, Redis."""
