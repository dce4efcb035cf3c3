#!/bin/sh
# systemd_boot.sh BUILD_DIR — runs the installed convd.service under a real
# systemd (this machine's /lib/systemd/systemd, booted as PID 1 of private
# pid, mount, UTS and IPC namespaces with / read-only and its own /run and
# /var), with every hardening option of the unit, then checks: it becomes
# active with its READY status, the installed client classifies through it,
# the process runs as a dynamic uid with no capabilities, no new privileges
# and seccomp filters, a reload and a stop succeed. `make check-systemd`;
# not part of make check (root and mount namespaces needed; a cold kernel
# cache takes minutes). Exits 0 on success, 1 on failure, 77 if this machine
# cannot boot it. Nothing outside BUILD_DIR/systemd-boot is written; the
# booted systemd is stopped (by its pid) when the script ends.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
B=$(cd "$1" 2>/dev/null && pwd) || { echo "systemd_boot.sh: no build dir $1" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$B/systemd-boot
SYSTEMD=/lib/systemd/systemd

skip() { echo "systemd_boot.sh: SKIP: $1" >&2; exit 77; }
fail() { echo "systemd_boot.sh: FAIL: $1" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$SYSTEMD" ] || skip "no $SYSTEMD (apt-get install systemd)"
unshare -m sh -c 'mount -t tmpfs none /mnt' 2>/dev/null || skip "no mount namespaces here"

rm -rf "$W/usr" "$W/etc" "$W/units"
mkdir -p "$W/units" "$W/cache" || exit 1
B="$B" PREFIX="$W/usr" SYSCONFDIR="$W/etc" sh "$ROOT/tools/install.sh" install >/dev/null ||
    fail "install"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/\"port\": *[0-9]*/\"port\": $PORT/" "$W/etc/convd/convd.json"
cp "$W/usr/lib/systemd/system/convd.service" "$W/units/"
cat >"$W/units/convd-boot.target" <<'EOF'
[Unit]
Description=convd under a private systemd
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
EOF
cat >"$W/boot" <<EOF
set -e
mount -t proc proc /proc
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
cp $W/units/* /run/systemd/system/
ln -s /dev/null /run/systemd/system/systemd-udevd.service
for d in /var/lib /var/log /var/tmp; do mount -t tmpfs tmpfs \$d; done
mount --bind $W/cache /var/cache
mount -o remount,bind,ro /
exec $SYSTEMD --system --unit=convd-boot.target --log-target=journal-or-kmsg
EOF
LOG=$W/boot.log
unshare --pid --fork --mount --uts --ipc --propagation private sh "$W/boot" >"$LOG" 2>&1 &
UNSHARE=$!
PID1=
i=0
while [ $i -lt 100 ] && [ -z "$PID1" ]; do
    PID1=$(pgrep -P "$UNSHARE" -x systemd)
    sleep 0.1
    i=$((i + 1))
done
[ -n "$PID1" ] || { cat "$LOG"; kill "$UNSHARE" 2>/dev/null; fail "systemd did not start"; }
# SIGKILL to the namespace's PID 1 ends every process in it.
trap 'kill -KILL "$PID1" 2>/dev/null; wait "$UNSHARE" 2>/dev/null' EXIT
N="nsenter -t $PID1 -m -p -u -i"
i=0
until $N systemctl is-system-running >/dev/null 2>&1 || [ $i -ge 100 ]; do
    [ "$($N systemctl is-system-running 2>/dev/null)" = degraded ] && break
    sleep 0.1
    i=$((i + 1))
done

# PrivateDevices= needs a /dev this machine may not be able to build: probe
# it with /bin/true; if even that fails, say so and relax only that.
printf '[Service]\nType=oneshot\nExecStart=/bin/true\nPrivateDevices=yes\n' |
    $N sh -c 'cat > /run/systemd/system/convd-probe.service'
$N systemctl daemon-reload
if ! $N systemctl start convd-probe.service 2>/dev/null; then
    echo "systemd_boot.sh: note: PrivateDevices=yes fails here even for /bin/true; running with PrivateDevices=no"
    $N mkdir -p /run/systemd/system/convd.service.d
    printf '[Service]\nPrivateDevices=no\n' |
        $N sh -c 'cat > /run/systemd/system/convd.service.d/private-devices.conf'
    $N systemctl daemon-reload
fi

echo "systemd_boot.sh: starting convd.service (a cold kernel cache takes minutes)"
$N systemctl start convd.service || { $N journalctl -u convd --no-pager -o cat | tail -20; fail "start"; }
$N systemctl --no-pager status convd.service | head -8
[ "$($N systemctl show -p ActiveState --value convd)" = active ] || fail "not active"
$N systemctl show -p StatusText --value convd | grep -q '^serving [0-9]* models (0 failed to load)$' ||
    fail "status: $($N systemctl show -p StatusText --value convd)"

MAIN=$($N systemctl show -p MainPID --value convd)
STATUS=$($N cat "/proc/$MAIN/status")
echo "$STATUS" | grep -Eq '^Uid:[[:space:]]+0[[:space:]]' && fail "runs as root"
echo "$STATUS" | grep -q '^CapEff:[[:space:]]*0000000000000000$' || fail "has capabilities"
echo "$STATUS" | grep -q '^NoNewPrivs:[[:space:]]*1$' || fail "NoNewPrivs not set"
echo "$STATUS" | grep -q '^Seccomp:[[:space:]]*2$' || fail "no seccomp filter"
echo "$STATUS" | grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp)'

OUT=$(CONVD_URL="http://127.0.0.1:$PORT" "$W/usr/bin/convd-classify" shapes-resnet \
    "$W/usr/share/convd/models/shapes-resnet/test.png") || fail "classify: $OUT"
echo "$OUT" | grep -q '"label":"circle"' || fail "classify answer: $OUT"
echo "classify: $OUT" | cut -c1-120

$N systemctl reload convd.service || fail "reload"
i=0
until $N journalctl -u convd --no-pager -o cat | grep -q 'event=reloaded ready=[0-9]* failed=0'; do
    [ $i -ge 600 ] && fail "no reloaded event in 600 s"
    sleep 1
    i=$((i + 1))
done
$N systemctl stop convd.service || fail "stop"
[ "$($N systemctl show -p Result --value convd)" = success ] || fail "stop result"
[ "$($N systemctl show -p NRestarts --value convd)" = 0 ] || fail "restarted"
$N journalctl -u convd --no-pager -o cat | grep -q 'event=stopped status=0' || fail "no clean stop"
echo "systemd_boot.sh: PASS (active, classified, reloaded, stopped cleanly, uid $(echo "$STATUS" | awk '/^Uid/ {print $2}'))"
