# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private doc fragment shared by every module of ivpb.backupbeleid."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
"""

    # Every enforcing module installs what it needs in its own call (module_utils/packages.py).
    PACKAGES = r"""
options:
  install_packages:
    description:
      - Install the Debian packages this module needs (see I(notes)) with C(apt-get) in the same
        call, before anything is configured; in check mode a missing package is reported as
        drift (with a C(packages) entry in the diff).
      - Set to C(false) where packages are managed otherwise; the module then fails on a host
        that lacks them.
    type: bool
    default: true
"""

    # The evidence contract every enforcing module returns, for ivpb audit.
    CONTROLS_RETURN = r"""
controls:
  description:
    - One entry per policy control this call checked, with its state after the call (or, in check
      mode, the state found), and small evidence for the auditor.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Control id from the policy file, for example C(power.ups).
      type: str
    dataset:
      description: The data set, for per-data-set controls.
      type: str
    status:
      description: C(compliant), C(drift) (enforcing would change something), C(missing) or C(error).
      type: str
    detail:
      description: One line saying what was found.
      type: str
    evidence:
      description: Small facts for the report (times in UTC, ISO 8601).
      type: dict
"""
