#!/bin/sh
# Lab only: the stand-in for the school's Synology NAS, a system ivpb does not manage
# (inventories/lab/host_vars/synology.yml: ivpb_managed false). Configured by hand, as the school's
# contractor configures a Synology in DSM (Control Panel > Hardware & Power > UPS > "Network UPS
# server"): plain upsmon of Debian's nut-client monitors ups-a on the school's NUT server as a
# secondary. ivpb never touches it: the audit learns whether it is connected from the NUT server
# (upsc -c, NUT's LIST CLIENT). lab/lab up runs this inside the container (podman exec).
set -eu
# No login for anyone: nothing may connect to a system ivpb does not manage (a play that tried
# would find it unreachable, and lab/demo would fail).
systemctl disable --now ssh.service >/dev/null 2>&1
# The password of the NUT user the NUT server makes for it (ivpb_nut_password in its lab host_vars).
PASSWORD='lab-synology-wijzig-mij'
printf 'MODE=netclient\n' > /etc/nut/nut.conf
cat > /etc/nut/upsmon.conf <<CONF
MONITOR ups-a@nutserver 1 mon-synology "$PASSWORD" secondary
MINSUPPLIES 1
SHUTDOWNCMD "/bin/true"
POLLFREQ 5
POLLFREQALERT 5
DEADTIME 15
CONF
chown root:nut /etc/nut/nut.conf /etc/nut/upsmon.conf
chmod 0640 /etc/nut/nut.conf /etc/nut/upsmon.conf
systemctl enable --now nut-monitor.service >/dev/null 2>&1

# Its shared folder fotoarchief, as DSM shares it over SMB (Control Panel > Shared Folder, user
# ivpb read-only): the backup proxy pulls it with rclone. The sample files have fixed bytes, so a
# restore drill can compare them one by one; a second lab test takes the share away and back.
SHARE=/volume1/fotoarchief
SMB_PASSWORD='lab-synology-smb-wijzig-mij'  # = ivpb_pull_password in its lab host_vars
mkdir -p "$SHARE/2025-2026/schoolreis" "$SHARE/2025-2026/sportdag"
printf 'IVPB-LAB-PLAINTEXT-MARKER fotoarchief on synology\n' > "$SHARE/leesmij.txt"
printf 'schoolreis foto 1\n' > "$SHARE/2025-2026/schoolreis/foto 001.jpg"
printf 'sportdag \303\251\303\251n\n' > "$SHARE/2025-2026/sportdag/loopwedstrijd é.jpg"
head -c 300000 /dev/urandom > "$SHARE/2025-2026/sportdag/video.mp4"
id ivpb >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin ivpb
chown -R root:ivpb "$SHARE" && chmod -R u=rwX,g=rX,o= "$SHARE"
cat > /etc/samba/smb.conf <<CONF
[global]
   server role = standalone server
   map to guest = never
   smb ports = 445
   disable netbios = yes
   log file = /var/log/samba/log.%m
[fotoarchief]
   path = $SHARE
   read only = yes
   valid users = ivpb
CONF
printf '%s\n%s\n' "$SMB_PASSWORD" "$SMB_PASSWORD" | smbpasswd -s -a ivpb >/dev/null
systemctl enable --now smbd.service >/dev/null 2>&1

# The cloud drive (inventories/example/host_vars/cloudschijf: a WebDAV drive such as a hosted
# Nextcloud) has its stand-in here too: rclone serves the folder over WebDAV on port 8080, read-only,
# to the account ivpb-backup (password in an htpasswd file, as apr1, so that it is on no command
# line), running as the unprivileged ivpb so that a folder it may not read stays unreadable. The
# backup proxy pulls /oudercommunicatie; a lab test stops the server and starts it again.
DRIVE=/volume1/cloudschijf
DAV_PASSWORD='lab-cloudschijf-webdav-wijzig-mij'  # = ivpb_pull_password in inventories/lab/host_vars/cloudschijf.yml
mkdir -p "$DRIVE/oudercommunicatie/nieuwsbrieven" /etc/cloudschijf
printf 'IVPB-LAB-PLAINTEXT-MARKER oudercommunicatie op de cloudschijf\n' > "$DRIVE/oudercommunicatie/leesmij.txt"
printf 'Nieuwsbrief september: welkom terug\n' > "$DRIVE/oudercommunicatie/nieuwsbrieven/2025-09 nieuwsbrief.txt"
printf 'brief aan de ouders: \303\251\303\251n uitstap\n' > "$DRIVE/oudercommunicatie/brief uitstap é.txt"
head -c 200000 /dev/urandom > "$DRIVE/oudercommunicatie/nieuwsbrieven/affiche.pdf"
chown -R root:ivpb "$DRIVE" && chmod -R u=rwX,g=rX,o= "$DRIVE"
printf 'ivpb-backup:%s\n' "$(printf '%s' "$DAV_PASSWORD" | openssl passwd -apr1 -stdin)" > /etc/cloudschijf/htpasswd
chown root:ivpb /etc/cloudschijf/htpasswd && chmod 0640 /etc/cloudschijf/htpasswd
cat > /etc/systemd/system/cloudschijf-webdav.service <<UNIT
[Unit]
Description=Lab stand-in for the school's cloud drive (WebDAV, read-only)
After=network-online.target

[Service]
User=ivpb
Group=ivpb
ExecStart=/usr/bin/rclone serve webdav $DRIVE --addr :8080 --read-only --htpasswd /etc/cloudschijf/htpasswd --config /dev/null
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now cloudschijf-webdav.service >/dev/null 2>&1
