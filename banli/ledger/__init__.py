"""The ledger (台账): every assignment a user may see, filtered, searched, ordered by an index and paged by keyset.

One query module for the pages (workbench), the API's assignment list and the exports (exchange): `selectors`
(the visible rows and their columns), `filtersets` (the filters all three share) and `keyset` (pages that cost
the same at any depth). It sits above the domain apps it reads (handling, replies, proposals) and below every
app that shows or exports the ledger.
"""
