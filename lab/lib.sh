# shellcheck shell=bash
# Common helpers for the ivpb lab scripts (sourced, not executed).
# Every lab script runs podman with the project-local containers.conf, never /etc's.

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="$LAB_ROOT/lab/containers.conf"
LAB_STATE="$LAB_ROOT/.lab"            # gitignored: key pair, logs
LAB_KEY="$LAB_STATE/id_ed25519"
LAB_LOGS="$LAB_STATE/logs"
# The example school's escrow key for the lab (issue #21): the directie's real secret key does not
# exist, so the lab makes its own pair once per checkout. The secret half stays here, on the
# controller, in a GnuPG home of its own (never on a lab host); the public half goes to the lab's
# inventory overlay, which replaces the example's recipient key. `ivpb restore` and its drills
# decrypt with GNUPGHOME=$LAB_ESCROW_HOME.
LAB_ESCROW_HOME="$LAB_STATE/escrow-gnupg"
LAB_ESCROW_VARS="$LAB_ROOT/inventories/lab/group_vars/all/escrow.yml"   # gitignored, made here
LAB_SITES_VARS="$LAB_ROOT/inventories/lab/group_vars/all/sites.yml"     # gitignored, made here
# The lab's evidence (restore drills): in the overlay, gone with the hosts at `lab/lab down`.
LAB_EVIDENCE="$LAB_ROOT/inventories/lab/.evidence"
BASE_IMAGE="localhost/ivpb-base:bookworm"
HOST_IMAGE="localhost/ivpb-host:bookworm"
LAB_NETWORK="ivpb-lab"
LAB_LABEL="ivpb.lab=1"
# Packages the lab needs on the machine that runs it (Debian package names).
# duplicity, gnupg and rsync: `ivpb restore` and its drills run here, on the controller.
LAB_HOST_PACKAGES=(podman runc debootstrap netavark aardvark-dns iptables openssh-client duplicity gnupg rsync)

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
say() { echo "$(basename "$0"): $*"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Install podman & co. from Debian's packages when missing (CI is a fresh machine).
ensure_tools() {
    local missing=() cmd
    for cmd in podman runc debootstrap netavark ssh ssh-keygen duplicity gpg rsync; do
        case $cmd in
            netavark) [[ -x /usr/lib/podman/netavark ]] || missing+=(netavark) ;;
            *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd") ;;
        esac
    done
    ((${#missing[@]} == 0)) && return 0
    # LAB_NO_INSTALL=1: never call apt-get, only say what is missing (tests, cautious users).
    if [[ -n ${LAB_NO_INSTALL:-} ]] || [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        die "missing ${missing[*]}: install them as root with: apt-get install -y ${LAB_HOST_PACKAGES[*]}"
    fi
    mkdir -p "$LAB_LOGS"
    local log="$LAB_LOGS/apt-install.log" t0
    t0=$(now)
    say "installing ${LAB_HOST_PACKAGES[*]} (missing: ${missing[*]}) ..."
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
               "${LAB_HOST_PACKAGES[@]}" fuse-overlayfs conmon; } >"$log" 2>&1; then
        die "could not install ${LAB_HOST_PACKAGES[*]} with apt-get (see $log); install them by hand and retry"
    fi
    say "installed host packages in $(elapsed "$t0")s"
}

# The lab's SSH key pair, generated once per checkout into .lab/ (never committed, never baked
# into an image: containers get the public key bind-mounted at start).
ensure_key() {
    mkdir -p "$LAB_STATE"
    chmod 700 "$LAB_STATE"
    if [[ ! -f $LAB_KEY ]]; then
        ssh-keygen -q -t ed25519 -N '' -C "ivpb-lab@$(hostname)" -f "$LAB_KEY" >/dev/null
        say "generated lab SSH key $LAB_KEY"
    fi
    chmod 600 "$LAB_KEY"
}

# The time zone the lab's hosts run in: whichever zone makes it about 12:00 local time now, so
# that no cron job of the school's backup window (nights, 22:00-05:30 in the example and the
# molecule scenarios) fires for at least eight hours. A test run then never races a job that
# cron starts by itself (a check-mode snapshot, a verify under test), at any hour of the day.
# The jobs still run for real, under cron, on a lab left up overnight.
quiet_tz() {
    local hour offset
    hour=$(date -u +%-H)
    offset=$(( (12 - hour + 36) % 24 - 12 ))   # -12 .. 11 hours east of UTC
    if ((offset > 0)); then echo "Etc/GMT-$offset"      # POSIX sign: Etc/GMT-2 is UTC+2
    elif ((offset < 0)); then echo "Etc/GMT+$((-offset))"
    else echo "Etc/GMT"; fi
}

image_exists() { podman image exists "$1" 2>/dev/null; }

# The lab's escrow key pair (see LAB_ESCROW_HOME) and the overlay's vars that name its public half.
# A pair that expired is replaced.
ensure_escrow_key() {
    local gpg=(gpg --homedir "$LAB_ESCROW_HOME" --batch --quiet) fpr validity
    mkdir -p "$LAB_ESCROW_HOME" && chmod 700 "$LAB_ESCROW_HOME"
    fpr=$("${gpg[@]}" --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }' || true)
    validity=$("${gpg[@]}" --with-colons --list-keys "${fpr:-none}" 2>/dev/null | awk -F: '/^pub/ { print $2; exit }' || true)
    if [[ -z $fpr || $validity == e || $validity == r ]]; then
        rm -rf "$LAB_ESCROW_HOME" && mkdir -m 700 "$LAB_ESCROW_HOME"
        "${gpg[@]}" --passphrase '' --quick-gen-key 'ivpb lab escrow (directie) <directie@lab.invalid>' ed25519 cert 2y ||
            die "could not make the lab's escrow key in $LAB_ESCROW_HOME"
        fpr=$("${gpg[@]}" --with-colons --list-secret-keys | awk -F: '/^fpr/ { print $10; exit }')
        "${gpg[@]}" --passphrase '' --quick-add-key "$fpr" cv25519 encr 2y ||
            die "could not add an encryption subkey to the lab's escrow key"
        say "generated the lab's escrow key $fpr (secret half in $LAB_ESCROW_HOME only)"
    fi
    mkdir -p "$(dirname "$LAB_ESCROW_VARS")"
    {
        echo "# Made by lab/lab (ensure_escrow_key in lab/lib.sh); not committed. The lab's escrow key"
        echo "# replaces the example's directie key, whose secret half does not exist: its secret half"
        echo "# is in .lab/escrow-gnupg on this controller only (GNUPGHOME for ivpb restore and drills)."
        echo "ivpb_gpg_recipients:"
        echo "  directie:"
        echo "    fingerprint: \"$fpr\""
        echo "    description: Directie (labsleutel; geheime helft alleen op de controller, .lab/escrow-gnupg)"
        echo "    public_key: |"
        "${gpg[@]}" --armor --export "$fpr" | sed 's/^./      &/'
    } >"$LAB_ESCROW_VARS.tmp" && mv "$LAB_ESCROW_VARS.tmp" "$LAB_ESCROW_VARS"
}

# The example's sites, their safety plans reviewed the day the lab is made: the example's review
# dates are fixed, and the lab's audit (make demo, the lab tests, molecule's enforce scenario) must
# not turn red the day one of them is older than the policy allows (fire.safety_plan).
# ensure_site_reviews [FILE]: written to FILE (default: the lab overlay's LAB_SITES_VARS).
ensure_site_reviews() {
    local py="$LAB_ROOT/.venv/bin/python" out=${1:-$LAB_SITES_VARS}
    [[ -x $py ]] || py=python3
    mkdir -p "$(dirname "$out")"
    "$py" - "$LAB_ROOT/inventories/example/group_vars/all" "$out.tmp" <<'PY' ||
import datetime, pathlib, sys, yaml
sites = {}
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.yml")):
    sites.update((yaml.safe_load(f.read_text()) or {}).get("ivpb_sites", {}))
for site in sites.values():
    plan = (site.get("fire_protection") or {}).get("safety_plan")
    if plan:
        plan["date"] = datetime.date.today().isoformat()
head = "# Made by lab/lab (ensure_site_reviews in lab/lib.sh); not committed: the example's sites,\n"
head += "# their safety plans reviewed the day the lab was made.\n"
pathlib.Path(sys.argv[2]).write_text(head + yaml.safe_dump({"ivpb_sites": sites}, allow_unicode=True, sort_keys=False))
PY
        die "could not write the lab's sites to $out"
    mv "$out.tmp" "$out"
}
