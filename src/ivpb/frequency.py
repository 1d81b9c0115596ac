"""How long a school's statement holds (`ivpb attest --frequency`): each frequency and its days.
Its own file, so that the CLI's parser names the choices without importing ivpb.attest, which
loads the policy and the rules (every ivpb command builds the whole parser)."""

FREQUENCIES = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "semiannually": 183, "annually": 366}
