#!/bin/sh
# install.sh install|uninstall — copies a built convd into its install
# locations (or removes them); run by `make install` / `make uninstall`,
# which pass the locations in the environment. It builds nothing and never
# touches an existing configuration file that differs from the shipped one.
#
#   B            build dir holding convd and convd-infer (build)
#   DESTDIR      staging root prepended to every path ("")
#   PREFIX       /usr/local
#   BINDIR       $PREFIX/bin      convd-infer, convd-<client>
#   SBINDIR      $PREFIX/sbin     convd (a system daemon: section 8)
#   DATADIR      $PREFIX/share    convd/models, convd/convd-client-lib.sh
#   MANDIR       $DATADIR/man     man1/convd-infer.1, man8/convd.8
#   SYSCONFDIR   /etc             convd/convd.json
#   SYSTEMDUNITDIR $PREFIX/lib/systemd/system   convd.service, convd.socket
#
# Paths written into installed files (the config's models_dir, the units'
# ExecStart, the clients' library) are the final ones, without DESTDIR.
set -eu

usage() {
    echo "usage: $0 install|uninstall (locations from the environment)" >&2
    exit 2
}
[ $# -eq 1 ] || usage
action=$1

B=${B:-build}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
SYSCONFDIR=${SYSCONFDIR:-/etc}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}

for d in "$PREFIX" "$BINDIR" "$SBINDIR" "$DATADIR" "$MANDIR" "$SYSCONFDIR" "$SYSTEMDUNITDIR"; do
    case $d in
    /*) ;;
    *) echo "install.sh: $d: install locations must be absolute paths" >&2; exit 2 ;;
    esac
done

SHARE=$DATADIR/convd
CONF=$SYSCONFDIR/convd/convd.json
LIB=$SHARE/convd-client-lib.sh

# The shipped config with models_dir pointing at the installed models.
gen_config() {
    sed "s|\"models_dir\": *\"[^\"]*\"|\"models_dir\": \"$SHARE/models\"|" config/convd.json
}

# A client script with its library sourced from the installed location and
# every client's NAME.sh (usage lines, messages) called convd-NAME.
gen_client() {
    set -- "$1" -e "s|\$(dirname \"\$0\")/convd-client-lib\.sh|$LIB|"
    for other in $(client_names); do
        set -- "$@" -e "s/\(^\|[^A-Za-z0-9_.-]\)$other\.sh\b/\1convd-$other/g"
    done
    file=$1
    shift
    sed "$@" "$file"
}

# A unit with ExecStart's binary and config at their installed locations.
gen_unit() {
    sed -e "s|/usr/local/sbin/convd|$SBINDIR/convd|" \
        -e "s|/etc/convd/convd.json|$CONF|" "$1"
}

# A man page whose FILES name the installed locations.
gen_man() {
    sed -e "s|/usr/local/share/convd|$SHARE|g" -e "s|/etc/convd|$SYSCONFDIR/convd|g" \
        -e "s|/usr/local/lib/systemd/system|$SYSTEMDUNITDIR|g" "$1"
}

client_names() {
    for f in clients/*.sh; do
        n=$(basename "$f" .sh)
        [ "$n" = convd-client-lib ] || echo "$n"
    done
}

# put MODE DEST: writes stdin to DEST (through a temporary, then renamed).
put() {
    mode=$1 dest=$2
    tmp="$dest.tmp.$$"
    cat >"$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$dest"
}

do_install() {
    for f in "$B/convd" "$B/convd-infer"; do
        [ -x "$f" ] || { echo "install.sh: $f is not built (run make)" >&2; exit 1; }
    done
    grep -q '"models_dir"' config/convd.json ||
        { echo "install.sh: config/convd.json has no models_dir" >&2; exit 1; }
    R=$DESTDIR
    install -d "$R$BINDIR" "$R$SBINDIR" "$R$SHARE/models" "$R$MANDIR/man1" \
        "$R$MANDIR/man8" "$R$SYSCONFDIR/convd" "$R$SYSTEMDUNITDIR"
    install -m 755 "$B/convd" "$R$SBINDIR/convd"
    install -m 755 "$B/convd-infer" "$R$BINDIR/convd-infer"

    # Models: replaced as a whole, so an upgrade drops removed models.
    rm -rf "$R$SHARE/models"
    install -d "$R$SHARE/models"
    for m in models/*/; do
        [ -f "$m/model.json" ] || continue
        cp -R "$m" "$R$SHARE/models/"
    done
    [ -f models/README.md ] && install -m 644 models/README.md "$R$SHARE/models/README.md"
    chmod -R u=rwX,go=rX "$R$SHARE/models"

    # Configuration: the administrator's copy is never overwritten.
    if [ -e "$R$CONF" ]; then
        if gen_config | cmp -s - "$R$CONF"; then :; else
            echo "install.sh: keeping existing $R$CONF; the shipped one is $R$SHARE/convd.json.dist"
        fi
    else
        gen_config | put 644 "$R$CONF"
    fi
    gen_config | put 644 "$R$SHARE/convd.json.dist"

    install -m 644 clients/convd-client-lib.sh "$R$LIB"
    : >"$R$SHARE/clients.list"
    for n in $(client_names); do
        gen_client "clients/$n.sh" | put 755 "$R$BINDIR/convd-$n"
        if ! grep -qF "$LIB" "$R$BINDIR/convd-$n"; then
            echo "install.sh: clients/$n.sh does not source \"\$(dirname \"\$0\")/convd-client-lib.sh\"" >&2
            exit 1
        fi
        echo "convd-$n" >>"$R$SHARE/clients.list"
    done

    for u in convd.service convd.socket; do
        gen_unit "systemd/$u" | put 644 "$R$SYSTEMDUNITDIR/$u"
    done
    gen_man man/convd.8 | put 644 "$R$MANDIR/man8/convd.8"
    gen_man man/convd-infer.1 | put 644 "$R$MANDIR/man1/convd-infer.1"
    echo "installed convd under $R$PREFIX (config $R$CONF, units $R$SYSTEMDUNITDIR)"
}

do_uninstall() {
    R=$DESTDIR
    if [ -f "$R$SHARE/clients.list" ]; then
        while read -r n; do
            case $n in convd-*) rm -f "$R$BINDIR/$n" ;; esac
        done <"$R$SHARE/clients.list"
    fi
    for n in $(client_names); do rm -f "$R$BINDIR/convd-$n"; done
    rm -f "$R$SBINDIR/convd" "$R$BINDIR/convd-infer" \
        "$R$SYSTEMDUNITDIR/convd.service" "$R$SYSTEMDUNITDIR/convd.socket" \
        "$R$MANDIR/man8/convd.8" "$R$MANDIR/man1/convd-infer.1"
    if [ -e "$R$CONF" ]; then
        if [ -f "$R$SHARE/convd.json.dist" ] && cmp -s "$R$SHARE/convd.json.dist" "$R$CONF"; then
            rm -f "$R$CONF"
        else
            echo "install.sh: keeping $R$CONF (changed since install)"
        fi
    fi
    rm -rf "$R$SHARE"
    rmdir "$R$SYSCONFDIR/convd" 2>/dev/null || true
    echo "uninstalled convd from $R$PREFIX"
}

cd "$(dirname "$0")/.."
case $action in
install) do_install ;;
uninstall) do_uninstall ;;
*) usage ;;
esac
