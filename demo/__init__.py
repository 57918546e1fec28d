"""The demo firm: a believable CPA practice built from a seed, for demos, manual tests and benchmarks.

Why a builder rather than fixtures: the data has to sit around *today* (the tax
season being set up, last month's close finishing, next week's payroll), it has
to grow on demand (the large size is the scale benchmark), and it must obey the
rules the product enforces (skills, seniority, capacity, the Task check
constraints) so nothing on screen looks impossible.

Two phases:

1. Plan, pure Python from (seed, size, today, the work types in the database):
   ``people`` (staff, clients), ``work`` (engagements and their timelines over
   each work type's milestone template, via ``timeline``), ``replay`` (who took
   each task, and where everything stands this morning, over the ``ledger``) and
   ``recurring`` (clients' recurring plans) produce the dataclasses in ``specs``.
   All randomness comes from ``random.Random`` instances seeded from the seed
   (one stream per concern, one per engagement), never the global generator, so
   the same seed and date always plan the same firm.
2. Load (``build``): read the natural keys that already exist in a constant
   number of queries and ``bulk_create`` only what is missing, in batches, in
   one transaction. A second run creates nothing.

``manage.py seed_demo`` is the thin command around ``demo.build.demo_build``.
"""
