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

    # A controller-side module (an action plugin, plan and audit_report): it changes no host and
    # has no diff. Listed before ivpb.backupbeleid.attributes: of two fragments, the first one's
    # attributes win (a module's own details still win over both).
    ACTION = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Changes no host (it reads and computes on the controller); the same in check mode.
  diff_mode:
    support: none
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

    # The evidence contract every enforcing module returns, for ivpb audit. (RETURN takes no doc
    # fragments: a module's RETURN says which controls and evidence keys it reports, this the rest.)
    CONTROLS = r"""
options: {}
notes:
  - The result's C(controls) is what C(ivpb audit) reads. One entry per policy control this call
    checked, with its state after the call (in check mode, the state found) - C(id), the control
    id from the policy file; C(dataset) for per-data-set controls; C(status), C(compliant),
    C(drift) (enforcing would change something), C(missing) or C(error); C(detail), one line
    saying what was found; C(evidence), small facts for the report (times in UTC, ISO 8601);
    C(message), where the module has one, the same finding as C(id) (a sentence of the C(module)
    section of ivpb's words catalogue) and C(params) (text and numbers), or a list of them, which
    the report writes in its own language instead of C(detail).
"""
