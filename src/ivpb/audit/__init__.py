"""`ivpb audit`: the compliance diff. Runs enforce.yml in check and diff mode, reads what each
module reports about each control, and judges every host and site against every control."""
