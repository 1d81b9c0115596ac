"""ivpb: enforce and audit a Flemish school's IVPB backup policy (Backupbeleid)."""
