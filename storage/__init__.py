"""nianbao storage: where archived bytes and their catalogue live. Knows nothing of Scrapy.

- storage.objects: object stores (filesystem, S3) chosen by URL, content-addressed keys
- storage.models / storage.catalogue: the SQL catalogue (SQLModel + Alembic migrations)
- storage.maintenance: fsck and store-to-store migration
"""
