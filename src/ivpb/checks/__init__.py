"""Cross-reference checks, one module per domain. Each module defines
`check(context: ivpb.validate.Context) -> Iterable[ivpb.errors.Problem]`; validate.py finds
them all, so a new domain adds a module here and touches nothing else."""
