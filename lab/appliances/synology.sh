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
