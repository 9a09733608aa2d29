"""Alembic migrations of the extractor database, shipped with the package.

`env.py` runs them on the connection `extractor.store.migrate` hands over (no alembic.ini);
`versions/` holds one file per revision, 0001 being the schema of the last release before
migrations (f781059). To add a revision after changing extractor/store/tables.py, let
Alembic compare the models with a database at head, then read and fix what it wrote:

    extractor db upgrade --db sqlite:///dev.db
    python -c "from extractor.store.migrate import new_revision as r; r('add x', rev_id='0002', url='sqlite:///dev.db')"
"""
