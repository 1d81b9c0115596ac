# Copyright: ivpb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job script that backup_job installs at /usr/local/lib/ivpb/ivpb-backup (bash; it runs
duplicity, rsync, gpg, flock and logger on the host). Kept as data so the module ships it."""

from __future__ import annotations

SCRIPT = r'''#!/bin/bash
# ivpb-backup: the backup jobs of one host (IVPB Backupbeleid §4 Backups).
# Managed by ivpb.backupbeleid.backup_job: changes here are overwritten.
#
#   ivpb-backup run DATASET      duplicity backup (full when the chain is older than
#                                FULL_IF_OLDER_THAN, else incremental), then retention
#                                (remove-all-but-n-full KEEP_FULL)          backup.daily/weekly
#   ivpb-backup annual DATASET   the school year's full backup in a chain of its own
#                                (annual/<YYYY>-<YYYY+1>), once per school year (1 Sep-31 Aug);
#                                retention never touches it                 backup.annual_full
#   ivpb-backup verify DATASET   restore test: duplicity verify --compare-data (plain sets);
#                                for encrypted sets (no secret key on this host) every volume
#                                is fetched and checked against the SHA1 in the manifest
#   ivpb-backup sync DATASET     push to the offsite sync target (lsyncd calls this): rsync
#                                mirror with versions, or encrypted duplicity volumes
#
# Run it under flock, as the crontab and lsyncd do:
#   flock -w 3600 /run/lock/ivpb-backup-DATASET.lock ivpb-backup run DATASET
# The kernel releases a flock when its holder dies: a killed job blocks no later run
# (duplicity's own lock in the archive dir is an fcntl lock too).
# Logs to /var/log/ivpb/backup.log and syslog (tag ivpb-backup); on failure the hook runs
# (syslog err, then the webhook / mail / command from backup.conf).
set -u -o pipefail
umask 077
export LC_ALL=C TZ=UTC
ETC=/etc/ivpb/backup
STATE=/var/lib/ivpb/backup
LOG=/var/log/ivpb/backup.log
export GNUPGHOME=$ETC/gnupg
ACTION=${1:-}
DS=${2:-}
if [[ -z $ACTION || ! $DS =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
    echo "usage: ivpb-backup run|annual|verify|sync DATASET" >&2
    exit 2
fi
[[ -r $ETC/datasets/$DS.conf ]] || { echo "ivpb-backup: unknown data set $DS" >&2; exit 2; }
HOOK_WEBHOOK="" HOOK_MAIL="" HOOK_COMMAND=""
# shellcheck source=/dev/null
. "$ETC/backup.conf"
# shellcheck source=/dev/null
. "$ETC/datasets/$DS.conf"
mkdir -p "$STATE/status" "$STATE/cache" "$(dirname "$LOG")"

log() {
    local prio=$1; shift
    printf '%s %s %s[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prio" "$DS" "$ACTION" "$*" >>"$LOG"
    logger -t ivpb-backup -p "user.$prio" -- "$DS $ACTION: $*" 2>/dev/null || true
}

SSH_OPTS="-oIdentityFile=$ETC/ssh/id_ed25519 -oIdentitiesOnly=yes -oConnectTimeout=20"
SSH_OPTS+=" -oUserKnownHostsFile=$ETC/ssh/known_hosts -oStrictHostKeyChecking=accept-new"
ssh_cmd() { echo "ssh -p $1 -oBatchMode=yes $SSH_OPTS"; }

failed() {
    local why=$1 again=0
    log err "FAILED: $why"
    # A sync retries every few seconds while the target is away: alert once per outage.
    [[ $ACTION == sync && -e $STATE/status/$DS.sync_failed ]] && again=1
    write_status "${ACTION}_failed" "$(now)" "$why"
    ((again)) && exit 75
    if [[ -n $HOOK_COMMAND ]]; then
        IVPB_DATASET=$DS IVPB_ACTION=$ACTION IVPB_REASON=$why bash -c "$HOOK_COMMAND" >>"$LOG" 2>&1 ||
            log err "failure hook command failed"
    fi
    if [[ -n $HOOK_MAIL ]] && command -v mail >/dev/null; then
        printf 'ivpb-backup %s %s on %s failed: %s\nSee %s\n' "$ACTION" "$DS" "$(hostname)" "$why" "$LOG" |
            mail -s "[ivpb] backup $ACTION $DS failed on $(hostname)" "$HOOK_MAIL" || log err "failure mail failed"
    fi
    if [[ -n $HOOK_WEBHOOK ]] && ! webhook "$why" >>"$LOG" 2>&1; then
        log err "failure webhook failed"
    fi
    exit 1
}

webhook() {
    python3 - "$HOOK_WEBHOOK" "$(hostname)" "$DS" "$ACTION" "$1" <<'PY'
import json, sys, urllib.request
url, host, ds, action, why = sys.argv[1:]
body = json.dumps({"host": host, "dataset": ds, "action": action, "status": "failed", "reason": why}).encode()
urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}), timeout=20)
PY
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# status/<ds>.<key>: one small file per fact, read by the module for its evidence
write_status() {
    printf '%s\n' "${@:2}" >"$STATE/status/$DS.$1.tmp" && mv "$STATE/status/$DS.$1.tmp" "$STATE/status/$DS.$1"
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
    duplicity "$@" "${enc[@]}" --archive-dir "$STATE/cache" --ssh-options "$SSH_OPTS" \
        --rsync-options "--timeout=600" --verbosity warning >>"$LOG" 2>&1
}

school_year() {
    local y m
    y=$(date -u +%Y); m=$(date -u +%-m)
    if ((m >= 9)); then echo "$y-$((y + 1))"; else echo "$((y - 1))-$y"; fi
}

url() { echo "rsync://$1:$2/$3"; }   # $3 is absolute: rsync://user@host:port//abs/path

case $ACTION in
run)
    [[ -d $SOURCE ]] || failed "source $SOURCE is missing"
    log info "backup of $SOURCE to $TARGET_HOST:$TARGET_DIR/chain"
    ensure_remote_dir "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/chain" || failed "target $TARGET_HOST unreachable"
    dup --name "$DS" --full-if-older-than "$FULL_IF_OLDER_THAN" "$SOURCE" \
        "$(url "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/chain")" || failed "duplicity backup failed"
    dup remove-all-but-n-full "$KEEP_FULL" --force --name "$DS" \
        "$(url "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/chain")" || failed "retention failed"
    last=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/chain")
    write_status last_backup "$last"
    log info "ok, newest backup on the target: $last"
    ;;
annual)
    [[ ${ANNUAL:-0} == 1 ]] || { log info "archive: false, no yearly full"; exit 0; }
    [[ -d $SOURCE ]] || failed "source $SOURCE is missing"
    sy=$(school_year)
    dir="$TARGET_DIR/annual/$sy"
    ensure_remote_dir "$TARGET_HOST" "$TARGET_PORT" "$dir" || failed "target $TARGET_HOST unreachable"
    have=$(remote_last "$TARGET_HOST" "$TARGET_PORT" "$dir")
    if [[ -n $have ]]; then
        write_status last_annual "$sy $have"
        exit 0
    fi
    log info "yearly full for school year $sy to $TARGET_HOST:$dir"
    dup full --name "$DS-annual-$sy" "$SOURCE" "$(url "$TARGET_HOST" "$TARGET_PORT" "$dir")" ||
        failed "yearly full backup failed"
    write_status last_annual "$sy $(remote_last "$TARGET_HOST" "$TARGET_PORT" "$dir")"
    log info "ok, yearly full $sy"
    ;;
verify)
    u=$(url "$TARGET_HOST" "$TARGET_PORT" "$TARGET_DIR/chain")
    if [[ -z ${ENCRYPT_KEYS:-} ]]; then
        dup verify --compare-data --name "$DS" "$u" "$SOURCE" || failed "verify: restore test differs or fails"
        how="restore compared with the source"
    else
        # No secret key on this host (by design): check every stored volume of the newest chain
        # against the SHA1 in the (cached, plaintext) manifest, and that it is an OpenPGP message
        # encrypted to the expected keys.
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        rsync -r -e "$(ssh_cmd "$TARGET_PORT")" "$TARGET_HOST:$TARGET_DIR/chain/" "$tmp/" >>"$LOG" 2>&1 ||
            failed "verify: cannot fetch the volumes"
        n=0
        for m in "$STATE/cache/$DS"/duplicity-*.manifest; do
            [[ -e $m ]] || continue
            stem=$(basename "$m" .manifest)
            [[ -n $(ls "$tmp/$stem".manifest* 2>/dev/null) ]] || continue
            while read -r vol sum; do
                f=$(ls "$tmp/$stem".vol"$vol".difftar* 2>/dev/null | head -n1)
                [[ -n $f ]] || failed "verify: volume $vol of $stem missing on the target"
                [[ $(sha1sum <"$f" | cut -d' ' -f1) == "$sum" ]] ||
                    failed "verify: volume $vol of $stem is corrupt (SHA1 differs)"
                gpg --batch --list-packets "$f" >/dev/null 2>&1 || [[ $? == 2 ]] ||
                    failed "verify: volume $vol of $stem is no OpenPGP message"
                n=$((n + 1))
            done < <(awk '/^Volume [0-9]+:/{v=$2; sub(":","",v)} /Hash SHA1/{print v, $3}' "$m")
        done
        ((n > 0)) || failed "verify: no backup volumes found"
        how="$n volumes match their manifests"
    fi
    write_status last_verify "ok $(now)"
    log info "ok, $how"
    ;;
sync)
    [[ -n ${SYNC_HOST:-} ]] || { log info "no sync target"; exit 0; }
    [[ -d $SOURCE ]] || failed "source $SOURCE is missing"
    if [[ ${SYNC_MODE} == mirror ]]; then
        ensure_remote_dir "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/mirror" || failed "sync target $SYNC_HOST unreachable"
        # A mirror also copies deletions and damage: what it replaces or deletes is kept in
        # versions/<stamp> at the target.
        rsync -a --delete --backup --backup-dir="$SYNC_DIR/versions/$(date -u +%Y%m%dT%H%M%SZ)" \
            -e "$(ssh_cmd "$SYNC_PORT")" "$SOURCE/" "$SYNC_HOST:$SYNC_DIR/mirror/" >>"$LOG" 2>&1 ||
            failed "sync to $SYNC_HOST failed"
    else
        # Confidential data leaves the host only as encrypted duplicity volumes.
        ensure_remote_dir "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/encrypted" || failed "sync target $SYNC_HOST unreachable"
        dup --name "$DS-sync" --full-if-older-than "$FULL_IF_OLDER_THAN" "$SOURCE" \
            "$(url "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/encrypted")" || failed "encrypted sync to $SYNC_HOST failed"
        dup remove-all-but-n-full 2 --force --name "$DS-sync" \
            "$(url "$SYNC_HOST" "$SYNC_PORT" "$SYNC_DIR/encrypted")" || failed "sync retention failed"
    fi
    write_status last_sync "$(now)"
    log info "ok, synced to $SYNC_HOST"
    ;;
*)
    echo "ivpb-backup: unknown action $ACTION" >&2
    exit 2
    ;;
esac
rm -f "$STATE/status/$DS.${ACTION}_failed"
'''
