#!/bin/sh
# The §3 test topology, built inside the router container with network namespaces
# (only the project's own addresses; nothing outside the container is ever probed):
#
#   router (main ns)                 isp1 ns                    inet ns ("the internet")
#   wan1 10.203.11.2/24 <--veth-->  10.203.11.1 up1 10.203.13.1 <--veth--> 10.203.13.2 in1
#   wan2 10.203.12.2/24 <--veth-->  10.203.12.1 up2 10.203.14.1 <--veth--> 10.203.14.2 in2
#                                    isp2 ns                    targets 10.203.15.10, .11 (on lo)
# (molecule/README.md gives this scenario 10.203.10.0/24 ... 10.203.19.0/24)
#
# Cutting ISP1's upstream = `ip -n isp1 link set up1 down`: the router's wan1 keeps its carrier.
# Idempotent: does nothing when the namespaces exist.
set -eu
# The lab mounts /proc/sys read-only; the ISP namespaces forward, the router sets rp_filter.
grep -q " /proc/sys proc ro" /proc/mounts && mount -o remount,rw /proc/sys
ip netns list | grep -qw inet && exit 0
for ns in isp1 isp2 inet; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
for i in 1 2; do
    ip link add "wan$i" type veth peer name isp netns "isp$i"
    ip addr add "10.203.1$i.2/24" dev "wan$i"
    ip link set "wan$i" up
    ip -n "isp$i" addr add "10.203.1$i.1/24" dev isp
    ip -n "isp$i" link set isp up
    ip -n "isp$i" link add "up$i" type veth peer name "in$i" netns inet
    ip -n "isp$i" addr add "10.203.1$((i+2)).1/24" dev "up$i"
    ip -n "isp$i" link set "up$i" up
    ip -n inet addr add "10.203.1$((i+2)).2/24" dev "in$i"
    ip -n inet link set "in$i" up
    ip netns exec "isp$i" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
    ip -n "isp$i" route add 10.203.15.0/24 via "10.203.1$((i+2)).2"
    ip -n inet route add "10.203.1$i.0/24" via "10.203.1$((i+2)).1"
done
ip -n inet addr add 10.203.15.10/32 dev lo
ip -n inet addr add 10.203.15.11/32 dev lo
