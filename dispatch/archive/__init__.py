"""``dispatch archive``: a month of closed tickets, with everything that refers to them, moved
out of the database into files and back (docs/scaling.md, "Retention and archiving").

    month.py     which month, in which time zone, and which of its tickets an archive takes
    tables.py    the tables an archive holds, how their rows are chosen, their columns
    manifest.py  the manifest beside the files: counts, SHA-256 digests, schema version
    export.py    ``archive export``: one gzip-compressed CSV file per table, then the manifest
    verify.py    ``archive verify``: the files against the manifest, the manifest against the database
    delete.py    ``archive delete``: the month out of the database in batches, after a verification
    restore.py   ``archive restore``: an archived month back into the same tables
"""
