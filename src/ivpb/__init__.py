"""ivpb: enforce and audit a Flemish school's IVPB backup policy (Backupbeleid)."""

__version__ = "0.1.0"
