"""The audit history (issue #24): every `ivpb audit` keeps its report, `ivpb history` lists them,
`ivpb diff` says what changed since an earlier one.

One SQLite file, by default beside the inventory's evidence (`<inventory>/.evidence/history.sqlite`,
the folder of ivpb.drills.home), append-only (store.py); the comparison of two reports is
diff.py; the commands are commands.py, their words are in words/<lang>.yml (section audits).
"""
