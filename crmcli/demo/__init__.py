"""`crm demo`: a database full of realistic German sample data, of any size, for trying things.

Faker (de_DE) is slow per call, so it fills small pools once (names, streets, towns, jobs,
company names) and a seeded random.Random combines them: 100,000 contacts take seconds.
Columns are normalised with the same values functions the services use (fold, fold_variants;
phone numbers are made valid, with the E.164 that parse_phone gives). Everything is written in
one transaction with multi-row inserts, the search index included (search.put). The same seed
and clock give the same data.

Each kind of record has one generator (`people.companies`, `people.contacts`, `timeline.tasks`,
`pipeline.deals`, ...) that reads what earlier ones made from the shared `state.Demo` and
returns how many rows it wrote; a new kind is one more entry in `fill.fill_demo`'s steps.
`writer` holds the fast multi-row inserts they all use.

Not a service: nothing but `crm demo`, the tests and bench/ call it.
"""

from crmcli.demo.fill import MAX_CONTACTS, fill_demo

__all__ = ["MAX_CONTACTS", "fill_demo"]
