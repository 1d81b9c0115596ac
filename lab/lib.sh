# shellcheck shell=bash
# Common helpers for the ivpb lab scripts (sourced, not executed).
# Every lab script runs podman with the project-local containers.conf, never /etc's.

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="$LAB_ROOT/lab/containers.conf"
LAB_STATE="$LAB_ROOT/.lab"            # gitignored: key pair, logs
LAB_KEY="$LAB_STATE/id_ed25519"
LAB_LOGS="$LAB_STATE/logs"
BASE_IMAGE="localhost/ivpb-base:bookworm"
HOST_IMAGE="localhost/ivpb-host:bookworm"
LAB_NETWORK="ivpb-lab"
LAB_LABEL="ivpb.lab=1"
# Packages the lab needs on the machine that runs it (Debian package names).
LAB_HOST_PACKAGES=(podman runc debootstrap netavark aardvark-dns iptables openssh-client)

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
say() { echo "$(basename "$0"): $*"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Install podman & co. from Debian's packages when missing (CI is a fresh machine).
ensure_tools() {
    local missing=() cmd
    for cmd in podman runc debootstrap netavark ssh ssh-keygen; do
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
