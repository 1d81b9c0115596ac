# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job script that backup_job installs at /usr/local/lib/ivpb/ivpb-backup (bash; it runs
duplicity, rsync, gpg, flock and logger on the host). Bash, so kept as text; the Python programs
it runs are embedded as host_program.py ships them."""

from __future__ import annotations

from ansible_collections.ivpb.backupbeleid.plugins.module_utils import (
    backup_manifest,
    host_program,
    receiver_layout,
    restore_guard,
)
from ansible_collections.ivpb.backupbeleid.plugins.module_utils.webhook import program as webhook_program

SCRIPT = r'''#!/bin/bash
# ivpb-backup: the backup jobs of one host (IVPB Backupbeleid §4 Backups).
# Managed by ivpb.backupbeleid.backup_job: changes here are overwritten.
#
#   ivpb-backup run DATASET        duplicity backup (full when the chain is older than
#                                  FULL_IF_OLDER_THAN, else incremental)  backup.daily/weekly
#   ivpb-backup annual DATASET     the school year's full backup in a chain of its own
#                                  (annual/<YYYY>-<YYYY+1>), once per school year (1 Sep-31 Aug);
#                                  retention never touches it              backup.annual_full
#   ivpb-backup verify DATASET     restore test: plain sets scan the newest backup's volumes,
#                                  restore it as an unprivileged user into a private scratch
#                                  folder and check it against that backup's manifest
#                                  (what was saved, not the live source, which changes);
#                                  for encrypted sets (no secret key on this host) every volume
#                                  is fetched, checked against the SHA1 in its manifest and
#                                  checked to be an OpenPGP message; a missing manifest fails
#   ivpb-backup sync DATASET       push to the offsite target (lsyncd calls this): duplicity
#                                  increments, so a deletion or ransomware damage at the source
#                                  is one more version at the target, never a loss
#   ivpb-backup heartbeat DATASET  (cron, every SYNC_HEARTBEAT_MINUTES of input_rules) proves
#                                  the offsite copy is current: syncs when anything changed
#                                  since the last good sync began, else checks the target answers
#
# Every backup, yearly full and sync stores a manifest of what it saved beside it (issue #16):
# <ds>/manifests/<stamp>.json[.gpg] for the backups, <ds>/sync-manifests/ for the offsite copy.
#
# Retention runs on the receiver when ivpb manages it (RECEIVER_RETENTION=1): a client cannot
# remove what the receiver accepted. Each job takes the data set's lock itself, in a directory
# only root can write (LOCK_DIR); a lock it cannot get, a source that is missing or empty, a
# job over its time limit: each is a failure (status, log, syslog, hook), never a silent skip.
# The kernel releases a flock when its holder dies: a killed job blocks no later run.
# Logs to /var/log/ivpb/backup.log and syslog (tag ivpb-backup); on failure the hook runs
# (syslog err, then the webhook / mail / command from backup.conf). With a monitoring URL
# (HOOK_PING) every run, verify and sync pings it healthchecks-style: <url>/<host>-<ds>-<kind>/start
# when it starts, <url>/<host>-<ds>-<kind> when it succeeded, .../fail (with the reason) when it
# failed; the failure webhook is the special case of a fail ping alone.
set -u -o pipefail
umask 077
export LC_ALL=C TZ=UTC
ETC=/etc/ivpb/backup
STATE=/var/lib/ivpb/backup
LOG=/var/log/ivpb/backup.log
LOCK_DIR=/run/ivpb-backup
# The restore tests' scratch area: root's, entered but never listed by others (0711), beside
# STATE (root's alone, 0700: VERIFY_USER could not reach into it)
VERIFY_DIR=/var/lib/ivpb/verify
VERIFY_USER=nobody  # who restores and checks there: never root (issue #22)
LOCK_WAIT=${IVPB_LOCK_WAIT:-3600}  # a job waits this long for the data set's previous job, then fails
JOB_TIMEOUT=21600       # a duplicity run longer than this is killed and reported
export GNUPGHOME=$ETC/gnupg
ACTION=${1:-}
DS=${2:-}
case $ACTION in run|annual|verify|sync|heartbeat) ;; *) ACTION="" ;; esac
if [[ -z $ACTION || ! $DS =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
    echo "usage: ivpb-backup run|annual|verify|sync|heartbeat DATASET" >&2
    exit 2
fi
[[ -r $ETC/datasets/$DS.conf ]] || { echo "ivpb-backup: unknown data set $DS" >&2; exit 2; }
HOOK_WEBHOOK="" HOOK_MAIL="" HOOK_COMMAND="" HOOK_PING=""
# shellcheck source=/dev/null
. "$ETC/backup.conf"
# shellcheck source=/dev/null
. "$ETC/datasets/$DS.conf"
mkdir -p "$STATE/status" "$STATE/cache" "$(dirname "$LOG")"
# The heartbeat is the sync's own check: its failures are sync failures.
KIND=$ACTION
[[ $ACTION == heartbeat ]] && KIND=sync

# The manifest program (module_utils/backup_manifest.py: its docstring says why a manifest made
# after the backup describes what the backup saved); `ivpb restore` runs the same text.
IFS= read -r -d '' MANIFEST_PY <<'IVPB_MANIFEST_PY'
@MANIFEST_PROGRAM@
IVPB_MANIFEST_PY
manifest_tool() { python3 -c "$MANIFEST_PY" "$@"; }
# The restore guard (module_utils/restore_guard.py): a chain's tar entries scanned before a restore.
IFS= read -r -d '' GUARD_PY <<'IVPB_GUARD_PY'
@GUARD_PROGRAM@
IVPB_GUARD_PY

log() {
    local prio=$1; shift
    printf '%s %s %s[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prio" "$DS" "$ACTION" "$*" >>"$LOG"
    logger -t ivpb-backup -p "user.$prio" -- "$DS $ACTION: $*" 2>/dev/null || true
}

# Host keys are pinned by the module (known_hosts): an unknown or changed key is refused.
SSH_OPTS="-oIdentityFile=$ETC/ssh/id_ed25519 -oIdentitiesOnly=yes -oConnectTimeout=20"
SSH_OPTS+=" -oServerAliveInterval=15 -oServerAliveCountMax=4"
SSH_OPTS+=" -oUserKnownHostsFile=$ETC/ssh/known_hosts -oStrictHostKeyChecking=yes"
ssh_cmd() { echo "ssh -p $1 -oBatchMode=yes $SSH_OPTS"; }

failed() {
    local why=$1 again=0
    log err "FAILED: $why"
    # A sync retries every few seconds while the target is away: alert once per outage.
    [[ $KIND == sync && -e $STATE/status/$DS.sync_failed ]] && again=1
    write_status "${KIND}_failed" "$(now)" "$why"
    ((again)) && exit 75
    ping fail "$why"
    if [[ -n $HOOK_COMMAND ]]; then
        IVPB_DATASET=$DS IVPB_ACTION=$ACTION IVPB_REASON=$why bash -c "$HOOK_COMMAND" >>"$LOG" 2>&1 ||
            log err "failure hook command failed"
    fi
    if [[ -n $HOOK_MAIL ]] && command -v mail >/dev/null; then
        printf 'ivpb-backup %s %s on %s failed: %s\nSee %s\n' "$ACTION" "$DS" "$(hostname)" "$why" "$LOG" |
            mail -s "[ivpb] backup $ACTION $DS failed on $(hostname)" -- "$HOOK_MAIL" || log err "failure mail failed"
    fi
    if [[ -n $HOOK_WEBHOOK ]] && ! webhook "$why" >>"$LOG" 2>&1; then
        log err "failure webhook failed"
    fi
    exit 1
}

# webhook REASON [URL STATUS]: a JSON POST, the URL in the environment (never in ps or the log)
webhook() {
    IVPB_WEBHOOK=${2:-$HOOK_WEBHOOK} python3 - host="$(hostname)" dataset="$DS" action="$ACTION" \
        status="${3:-failed}" reason="$1" <<'PY'
@WEBHOOK_PROGRAM@
PY
}

# A monitoring ping (start|success|fail [reason]); one that fails is logged, never the job's failure.
ping() {
    [[ -n $HOOK_PING ]] || return 0
    local url="${HOOK_PING%/}/$(hostname)-$DS-$KIND"
    [[ $1 == success ]] || url+="/$1"
    webhook "${2:-}" "$url" "$1" >>"$LOG" 2>&1 || log warning "monitoring ping ($1) failed"
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# status/<ds>.<key>: one small file per fact, read by the module for its evidence
write_status() {
    printf '%s\n' "${@:2}" >"$STATE/status/$DS.$1.tmp" && mv "$STATE/status/$DS.$1.tmp" "$STATE/status/$DS.$1"
}

# The data set's lock, in a directory that only root can write (nobody else can hold or plant
# it); a lock that cannot be had is a failure like any other.
take_lock() {
    mkdir -p -m 0700 "$LOCK_DIR" 2>/dev/null
    [[ -d $LOCK_DIR && ! -L $LOCK_DIR && $(stat -c '%u %a' "$LOCK_DIR") == "0 700" ]] ||
        failed "lock directory $LOCK_DIR is not a directory of root with mode 0700"
    exec 9>>"$LOCK_DIR/$DS.lock" || failed "cannot open the lock $LOCK_DIR/$DS.lock"
    flock -w "$LOCK_WAIT" 9 || failed "the previous job of $DS still runs after ${LOCK_WAIT}s (lock $LOCK_DIR/$DS.lock)"
}

# A missing, unmounted or empty source is a failure, never an empty backup or sync.
check_source() {
    [[ -d $SOURCE ]] || failed "source $SOURCE is missing"
    [[ -n $(find "$SOURCE" -mindepth 1 -print -quit 2>/dev/null) ]] ||
        failed "source $SOURCE is empty (not mounted?)"
}

# A data set of a system ivpb does not manage (#23): rclone first makes SOURCE, a folder of this
# host (the backup proxy), a copy of it where it lives (an SMB share, a WebDAV drive). A source
# that cannot be read fails the job like a missing one. The settings come from the data set's
# config and reach rclone in its environment (no config file of its own), the password from its
# root-only file, obscured as rclone takes it: never on a command line.
pull_source() {
    [[ -n ${PULL_TYPE:-} ]] || return 0
    local out pass=""
    command -v rclone >/dev/null || failed "pull: rclone is missing"
    mkdir -p -m 0700 "$SOURCE" || failed "pull: cannot make $SOURCE"
    if [[ -s $ETC/pull/$DS.pass ]]; then
        pass=$(rclone obscure - <"$ETC/pull/$DS.pass" 2>/dev/null) || failed "pull: rclone cannot read the password"
    fi
    log info "pull of $PULL_SOURCE into $SOURCE"
    out=$(
        export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_SOURCE_TYPE=$PULL_TYPE RCLONE_CONFIG_SOURCE_PASS=$pass
        export RCLONE_CONFIG_SOURCE_USER=$PULL_USER
        if [[ $PULL_TYPE == smb ]]; then
            export RCLONE_CONFIG_SOURCE_HOST=$PULL_HOST RCLONE_CONFIG_SOURCE_PORT=$PULL_PORT
        elif [[ $PULL_TYPE == sftp ]]; then
            # the server's key pinned beside the targets'; no command run on it (a NAS's SFTP-only
            # account has no shell); without a password this host's own backup key logs in
            export RCLONE_CONFIG_SOURCE_HOST=$PULL_HOST RCLONE_CONFIG_SOURCE_PORT=$PULL_PORT
            export RCLONE_CONFIG_SOURCE_KNOWN_HOSTS_FILE=$ETC/ssh/known_hosts RCLONE_CONFIG_SOURCE_SHELL_TYPE=none
            [[ -n $pass ]] || export RCLONE_CONFIG_SOURCE_KEY_FILE=$ETC/ssh/id_ed25519
        else
            export RCLONE_CONFIG_SOURCE_URL=$PULL_URL RCLONE_CONFIG_SOURCE_VENDOR=other
        fi
        timeout --kill-after=60 "$JOB_TIMEOUT" rclone sync --retries 1 --low-level-retries 2 --contimeout 20s \
            --timeout 60s "source:$PULL_PATH" "$SOURCE" 2>&1
    ) || failed "pull from $PULL_SOURCE failed: $(grep -v '^\s*$' <<<"$out" | tail -n1 | cut -c1-200)"
    log info "pulled $PULL_SOURCE"
}

# The newest backup on the target, from its file names (UTC stamps), as 2026-11-29T13:11:15Z
remote_last() {
    local host=$1 port=$2 dir=$3
    rsync --list-only -e "$(ssh_cmd "$port")" "$host:$dir/" 2>/dev/null |
        sed -n 's/.*duplicity-\(full\|inc\.[0-9TZ]*\.to\)\.\([0-9]\{8\}T[0-9]\{6\}Z\)\..*manifest.*/\2/p' |
        sort | tail -n1 |
        sed 's/^\(....\)\(..\)\(..\)T\(..\)\(..\)\(..\)Z$/\1-\2-\3T\4:\5:\6Z/'
}

ensure_remote_dir() {
    local host=$1 port=$2 dir=$3 empty
    empty=$(mktemp -d)
    rsync -r --mkpath -e "$(ssh_cmd "$port")" "$empty/" "$host:$dir/" >>"$LOG" 2>&1
    local rc=$?
    rmdir "$empty"
    return $rc
}

dup() {
    local -a enc=()
    if [[ -n ${ENCRYPT_KEYS:-} ]]; then
        for k in $ENCRYPT_KEYS; do enc+=(--encrypt-key "$k"); done
        enc+=(--gpg-options "--trust-model=always --no-auto-key-locate")
    else
        enc+=(--no-encryption)
    fi
    timeout --kill-after=60 "$JOB_TIMEOUT" duplicity "$@" "${enc[@]}" --archive-dir "$STATE/cache" \
        --ssh-options "$SSH_OPTS" --rsync-options "--timeout=600" --verbosity warning >>"$LOG" 2>&1
    local rc=$?
    ((rc == 124 || rc == 137)) && failed "duplicity $1 ran longer than ${JOB_TIMEOUT}s and was stopped"
    return $rc
}

# Routine retention by the client only where the receiver is not ivpb's (an external target).
client_retention() { # receiver-is-ivpb's keep name url
    [[ $1 == 1 ]] && return 0
    dup remove-all-but-n-full "$2" --force --name "$3" "$4"
}

school_year() {
    local y m
    y=$(date -u +%Y); m=$(date -u +%-m)
    if ((m >= 9)); then echo "$y-$((y + 1))"; else echo "$((y - 1))-$y"; fi
}

# $3 relative to the client's area on an ivpb receiver (rsync://user@host:port/ds/chain), or
# absolute on an external one (rsync://user@host:port//srv/backup/host/ds/chain)
url() { echo "rsync://$1:$2/$3"; }

sync_now() {
    local u t0 last
    u=$(url "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/@SYNC@")
    ensure_remote_dir "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/@SYNC@" || failed "sync target $SYNC_HOST unreachable"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$STATE/status/$DS.sync_started.tmp"
    t0=$(date +%s%N)
    dup --name "$DS-sync" --full-if-older-than "$FULL_IF_OLDER_THAN" "$SOURCE" "$u" ||
        failed "sync to $SYNC_HOST failed"
    client_retention "$SYNC_RECEIVER_RETENTION" 2 "$DS-sync" "$u" || failed "sync retention failed"
    last=$(remote_last "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/@SYNC@")
    [[ -n $last ]] || failed "no sync found on $SYNC_HOST after the run"
    upload_manifest sync "$last" "$t0" || failed "manifest of the sync $last could not be written or uploaded"
    mv "$STATE/status/$DS.sync_started.tmp" "$STATE/status/$DS.sync_started"
}

# The manifest of one backup, yearly full or sync (issue #16): every entry of SOURCE with its type
# and mode, a file's size, mtime, ctime and sha256, a link's target (issue #22), as JSON, so that a restore is
# checked without the live source (`ivpb restore`, and the verify of plain sets here). Encrypted
# to the same recipients as the data for an encrypted data set (the plaintext never leaves this
# host), uploaded beside the chains as <ds>/manifests/<duplicity stamp>.json[.gpg] (the offsite
# copy's in <ds>/sync-manifests/); the receiver seals it like every other file. A manifest that
# cannot be written or uploaded fails the job.
# Plain data sets' manifests are not signed, on purpose: a signature by this host's key proves
# only that this host wrote the file, and whoever could replace a sealed manifest on the receiver
# (root there) can replace the volumes beside it too, whose SHA1s sit in duplicity's own
# unsigned manifests; the signing key would also have to live on the host an attacker of the
# client holds. What protects a stored manifest is the receiver's seal (root-owned, 0440, out of
# the client's reach), the same wall that protects the data it describes.
upload_manifest() { # kind (chain|annual|sync) ISO-stamp-of-the-backup started-ns [school year]
    local kind=$1 stamp=$2 t0=$3 sy=${4:-} tmp name rc host=$TARGET_HOST port=$TARGET_PORT dir=$TARGET_DIR/@MANIFESTS@
    [[ $kind == sync ]] && host=$SYNC_HOST port=$SYNC_PORT dir=$SYNC_DIR/@SYNC_MANIFESTS@
    tmp=$(mktemp -d) || return 1
    name="$(tr -d ':-' <<<"$stamp").json"
    if ! manifest_tool write "$SOURCE" "$DS" "$(hostname)" "$kind" "$stamp" "$sy" "$t0" "$STATE/cache/$DS.hashes" \
        >"$tmp/$name" 2>>"$LOG"; then
        rm -rf "$tmp"; return 1
    fi
    if [[ -n ${ENCRYPT_KEYS:-} ]]; then
        local -a to=()
        for k in $ENCRYPT_KEYS; do to+=(--recipient "$k"); done
        gpg --batch --yes --trust-model always --no-auto-key-locate "${to[@]}" --output "$tmp/$name.gpg" \
            --encrypt "$tmp/$name" >>"$LOG" 2>&1 || { rm -rf "$tmp"; return 1; }
        rm -f "$tmp/$name"
        name=$name.gpg
    fi
    ensure_remote_dir "$host" "$port" "$dir" &&
        rsync -e "$(ssh_cmd "$port")" "$tmp/$name" "$host:$dir/$name" >>"$LOG" 2>&1
    rc=$?
    rm -rf "$tmp"
    return $rc
}

# The verify of a plain data set (issue #22): the chain of the newest backup is fetched into a
# scratch folder, every tar entry of its volumes is scanned before anything is restored (the
# restore guard: whoever wrote the volumes wrote the SHA1s duplicity checks too, and duplicity
# writes a file `a/x` through a symbolic link `a`), then duplicity restores it from there as
# VERIFY_USER (setpriv, no root, no capabilities) into a fresh folder that user owns, and the
# manifest check runs as that user too, walking by lstat. Root never writes into, nor reads
# through, what a backup holds; the scratch folder is removed whatever happens. Free space for
# the whole data set (its manifest's bytes, plus a tenth and 64 MiB) beside the volumes is
# checked first.
verify_plain() {
    local newest stamp name need free full uid gid
    newest=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/@CHAIN@")
    [[ -n $newest ]] || failed "verify: no backup found on $TARGET_HOST"
    uid=$(id -u "$VERIFY_USER" 2>/dev/null) && gid=$(id -g "$VERIFY_USER" 2>/dev/null) && ((uid != 0)) ||
        failed "verify: no unprivileged user $VERIFY_USER on this host to restore as"
    local parent=${VERIFY_DIR%/*}
    mkdir -p "$parent" 2>/dev/null
    [[ -d $parent && ! -L $parent && $(stat -c '%u' "$parent") == 0 &&
        $((8#$(stat -c '%a' "$parent") & 8#022)) == 0 ]] && chmod o+x "$parent" ||
        failed "verify: $parent is not a directory of root that only root can write"
    mkdir -p -m 0711 "$VERIFY_DIR" 2>/dev/null
    [[ -d $VERIFY_DIR && ! -L $VERIFY_DIR && $(stat -c '%u' "$VERIFY_DIR") == 0 ]] && chmod 0711 "$VERIFY_DIR" ||
        failed "verify: scratch directory $VERIFY_DIR is not a directory of root"
    rm -rf "$VERIFY_DIR/$DS".*  # a restore test killed earlier (this job holds the data set's lock)
    tmp=$(mktemp -d "$VERIFY_DIR/$DS.XXXXXX") || failed "verify: cannot make a scratch directory in $VERIFY_DIR"
    trap 'rm -rf "$tmp"' EXIT
    stamp=$(tr -d ':-' <<<"$newest")
    name="$stamp.json"
    rsync -e "$(ssh_cmd "$TARGET_PORT")" "$TARGET_HOST:$TARGET_DIR/@MANIFESTS@/$name" "$tmp/$name" >>"$LOG" 2>&1 ||
        failed "verify: manifest $name of the newest backup $newest cannot be fetched from $TARGET_HOST (missing?)"
    need=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["bytes"]))' "$tmp/$name" 2>/dev/null) ||
        failed "verify: manifest $name of $newest is not a valid manifest (altered?)"
    # the files of the one chain holding the newest backup: its full and the increments after it
    rsync --list-only -e "$(ssh_cmd "$TARGET_PORT")" "$TARGET_HOST:$TARGET_DIR/@CHAIN@/" >"$tmp/listing" 2>>"$LOG" ||
        failed "verify: cannot list the backups on $TARGET_HOST"
    full=$(awk '{print $NF}' "$tmp/listing" | sed -n 's/^duplicity-full\.\([0-9]\{8\}T[0-9]\{6\}Z\)\.manifest$/\1/p' |
        awk -v n="$stamp" '$1 <= n' | sort | tail -n1)
    [[ -n $full ]] || failed "verify: no full backup at or before $newest on $TARGET_HOST"
    awk '{print $NF}' "$tmp/listing" | awk -F. -v f="$full" '($1 ~ /^duplicity-full(-signatures)?$/ && $2 == f) ||
        ($1 ~ /^duplicity-(inc|new-signatures)$/ && $2 >= f)' >"$tmp/files"
    mkdir -m 0700 "$tmp/volumes" "$tmp/cache" "$tmp/tmp"
    rsync -t --files-from="$tmp/files" -e "$(ssh_cmd "$TARGET_PORT")" "$TARGET_HOST:$TARGET_DIR/@CHAIN@/" \
        "$tmp/volumes/" >>"$LOG" 2>&1 || failed "verify: cannot fetch the volumes of $newest from $TARGET_HOST"
    out=$(python3 -c "$GUARD_PY" scan "$tmp/volumes" "$stamp" 2>&1) ||
        failed "verify: the backup $newest is refused before any restore: $out"
    need=$((need + need / 10 + 64 * 1048576))
    free=$(df -B1 --output=avail "$VERIFY_DIR" | tail -n1 | tr -d ' ')
    [[ $free =~ ^[0-9]+$ ]] || failed "verify: cannot read the free space of $VERIFY_DIR"
    space="needs $((need / 1048576)) MiB, $((free / 1048576)) MiB free"
    ((free >= need)) || failed "verify: not enough free space for the restore test in $VERIFY_DIR: $space"
    chown -R "$uid:$gid" "$tmp" || failed "verify: cannot hand the scratch folder to $VERIFY_USER"
    as_verify_user() {
        timeout --kill-after=60 "$JOB_TIMEOUT" setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
            --inh-caps=-all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp" TMPDIR="$tmp/tmp" LC_ALL=C TZ=UTC "$@"
    }
    # --ignore-errors: duplicity cannot give the files root's owner, and without it a failed chown
    # skips the file's chmod too; what it restored is checked, mode included, right after
    as_verify_user duplicity restore --ignore-errors --no-encryption --archive-dir "$tmp/cache" --name "$DS" \
        --time "$(date -u -d "$newest" +%s)" --verbosity warning "file://$tmp/volumes" "$tmp/data" >>"$LOG" 2>&1 ||
        failed "verify: restore of the backup $newest failed (a corrupt or missing volume?)"
    out=$(as_verify_user python3 -c "$MANIFEST_PY" line "$tmp/$name" "$tmp/data" 2>&1) ||
        failed "verify: the restore of $newest differs from its manifest: $out"
    how="restore of $newest checked against its manifest: $out"
}

take_lock
case $ACTION in
run)
    ping start
    pull_source
    check_source
    u=$(url "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/@CHAIN@")
    log info "backup of $SOURCE to $TARGET_HOST:$TARGET_DIR/@CHAIN@"
    ensure_remote_dir "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/@CHAIN@" || failed "target $TARGET_HOST unreachable"
    t0=$(date +%s%N)  # the manifest's "started": a file changed after it may differ in the backup
    dup --name "$DS" --full-if-older-than "$FULL_IF_OLDER_THAN" "$SOURCE" "$u" || failed "duplicity backup failed"
    client_retention "$RECEIVER_RETENTION" "$KEEP_FULL" "$DS" "$u" || failed "retention failed"
    last=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/@CHAIN@")
    [[ -n $last ]] || failed "no backup found on $TARGET_HOST after the run"
    upload_manifest chain "$last" "$t0" || failed "manifest of the backup $last could not be written or uploaded"
    write_status last_backup "$last"
    log info "ok, newest backup on the target: $last"
    ;;
annual)
    [[ ${ANNUAL:-0} == 1 ]] || { log info "archive: false, no yearly full"; exit 0; }
    ping start
    pull_source
    check_source
    sy=$(school_year)
    dir="$TARGET_DIR/@ANNUAL@/$sy"
    ensure_remote_dir "$TARGET_HOST" "$TARGET_PORT" "$dir" || failed "target $TARGET_HOST unreachable"
    have=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$dir")
    if [[ -z $have ]]; then
        log info "yearly full for school year $sy to $TARGET_HOST:$dir"
        t0=$(date +%s%N)
        dup full --name "$DS-annual-$sy" "$SOURCE" "$(url "$TARGET_HOST" "$TARGET_PORT" "$dir")" ||
            failed "yearly full backup failed"
        have=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$dir")
        [[ -n $have ]] || failed "no yearly full found on $TARGET_HOST after the run"
        upload_manifest annual "$have" "$t0" "$sy" || failed "manifest of the yearly full $sy not written or uploaded"
        log info "ok, yearly full $sy"
    fi
    write_status last_annual "$sy $have"
    ;;
verify)
    ping start
    u=$(url "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/@CHAIN@")
    if [[ -z ${ENCRYPT_KEYS:-} ]]; then
        verify_plain "$u"
    else
        # No secret key on this host (by design): check every stored volume of the newest chain
        # against the SHA1 in the (cached, plaintext) manifest, that its manifest is on the
        # target, and that it is an OpenPGP message encrypted to every expected recipient.
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        rsync -r -e "$(ssh_cmd "$TARGET_PORT")" "$TARGET_HOST:$TARGET_DIR/@CHAIN@/" "$tmp/" >>"$LOG" 2>&1 ||
            failed "verify: cannot fetch the volumes"
        newest=$(ls "$tmp" | sed -n 's/^duplicity-full\.\([0-9]\{8\}T[0-9]\{6\}Z\)\.manifest.*/\1/p' | sort | tail -n1)
        [[ -n $newest ]] || failed "verify: no full backup on the target"
        # the encryption subkeys of each recipient, one line per recipient
        wanted=$(for k in $ENCRYPT_KEYS; do
            gpg --batch --with-colons --list-keys "$k" 2>/dev/null | awk -F: '$1=="sub" && $12 ~ /e/ {printf "%s ", $5}'
            echo; done)
        n=0
        cache=$STATE/cache/$DS
        for m in "$cache/duplicity-full.$newest.manifest" "$cache"/duplicity-inc.*.to.*.manifest; do
            [[ -e $m ]] || continue
            stem=$(basename "$m" .manifest)
            start=$(sed -n 's/^duplicity-inc\.\([0-9TZ]*\)\.to\..*/\1/p' <<<"$stem")
            [[ -n $start && $start < $newest ]] && continue  # an increment of an older chain
            [[ -n $(ls "$tmp/$stem".manifest* 2>/dev/null) ]] ||
                failed "verify: manifest of $stem missing on the target"
            while read -r vol sum; do
                f=$(ls "$tmp/$stem".vol"$vol".difftar* 2>/dev/null | head -n1)
                [[ -n $f ]] || failed "verify: volume $vol of $stem missing on the target"
                [[ $(sha1sum <"$f" | cut -d' ' -f1) == "$sum" ]] ||
                    failed "verify: volume $vol of $stem is corrupt (SHA1 differs)"
                packets=$(gpg --batch --list-packets "$f" 2>/dev/null)
                grep -q '^:pubkey enc packet:' <<<"$packets" ||
                    failed "verify: volume $vol of $stem is no OpenPGP message to a public key"
                ids=$(sed -n 's/^:pubkey enc packet:.* keyid \([0-9A-F]*\).*/\1/p' <<<"$packets")
                while read -r subs; do
                    [[ -n $subs ]] || continue
                    hit=0
                    for sub in $subs; do grep -qx "$sub" <<<"$ids" && hit=1; done
                    ((hit)) || failed "verify: volume $vol of $stem is not encrypted to every recipient"
                done <<<"$wanted"
                n=$((n + 1))
            done < <(awk '/^Volume [0-9]+:/{v=$2; sub(":","",v)} /Hash SHA1/{print v, $3}' "$m")
        done
        ((n > 0)) || failed "verify: no backup volumes found"
        how="$n volumes match their manifests"
    fi
    write_status last_verify "$(now)"
    log info "ok, $how"
    ;;
sync)
    [[ -n ${SYNC_HOST:-} ]] || { log info "no sync target"; exit 0; }
    ping start
    check_source
    sync_now
    write_status last_sync "$(now)"
    log info "ok, synced to $SYNC_HOST"
    ;;
heartbeat)
    [[ -n ${SYNC_HOST:-} ]] || exit 0
    ping start
    check_source
    started=$STATE/status/$DS.sync_started
    if [[ ! -e $started || -n $(find "$SOURCE" -newer "$started" -print -quit 2>/dev/null) ]]; then
        sync_now
        log info "ok, changes synced to $SYNC_HOST"
    else
        rsync --list-only -e "$(ssh_cmd "$SYNC_PORT")" "$SYNC_HOST:$SYNC_DIR/@SYNC@/" >/dev/null 2>>"$LOG" ||
            failed "sync target $SYNC_HOST does not answer"
    fi
    write_status last_sync "$(now)"
    ;;
esac
rm -f "$STATE/status/$DS.${KIND}_failed"
ping success
'''.replace("@MANIFEST_PROGRAM@", host_program.text(backup_manifest).strip("\n"))
SCRIPT = SCRIPT.replace("@GUARD_PROGRAM@", host_program.text(restore_guard).strip("\n"))
SCRIPT = SCRIPT.replace("@WEBHOOK_PROGRAM@", webhook_program(20).strip("\n"))
# The folders at the target are receiver_layout's (the receiver, restore and the herstelplan read them there).
for _name in ("CHAIN", "ANNUAL", "SYNC", "MANIFESTS", "SYNC_MANIFESTS"):
    SCRIPT = SCRIPT.replace(f"@{_name}@", getattr(receiver_layout, _name))
