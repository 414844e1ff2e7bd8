#!/usr/bin/env bash
# Builds, lints, installs and purges the Debian package, and builds and lints the RPM.
#
# Usage: scripts/packages.sh [--keep]
#
#   --keep   leave the work directory (the packages, logs) behind and print it
#
# Needs root (dpkg -i) on Debian 12, with scripts/deps.sh's packages.  Works
# with or without systemd as PID 1: without it (a container, CI), what the
# maintainer scripts leave to systemd is checked by hand: the user and the
# directories come from systemd-sysusers and systemd-tmpfiles, which postinst
# runs itself, and the unit is checked offline (systemd-analyze verify and
# security --offline=true, at most 1.5).
#
# The .deb: dpkg-buildpackage -b (unit tests left to scripts/test.sh),
# lintian --pedantic with no E: or W: tag, dpkg -i, then the user, the
# conffile, the modes and owners, schemadriftd --check-config, the daemon run
# by hand as its user, dpkg --purge and nothing of it left.  The RPM:
# rpmbuild with the macros Debian's rpm lacks defined here (not in the spec),
# rpmlint with no E: or W:, and every directory it installs into or makes at
# run time owned by it or by the base system.  Exit status 0 when all of it
# passed, 1 otherwise; refuses (2) to run where schemadrift is installed
# already, so a developer's own installation is never replaced.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
keep=0
case ${1:-} in
'') ;;
--keep) keep=1 ;;
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
*)
	echo "packages.sh: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "packages.sh: needs root (dpkg -i, dpkg --purge)" >&2
	exit 2
fi
if dpkg-query -W -f='${db:Status-Status}' schemadrift 2>/dev/null | grep -qx installed; then
	echo "packages.sh: the schemadrift package is installed here; not replacing it" >&2
	exit 2
fi
for tool in dpkg-buildpackage dh lintian rpmbuild rpmlint systemd-analyze; do
	command -v "$tool" >/dev/null || { echo "packages.sh: $tool missing (run scripts/deps.sh)" >&2; exit 2; }
done

version=$(sed -n 's/^project(schemadrift VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
work=$(mktemp -d /tmp/schemadrift-packages.XXXXXX)
installed=0
cleanup() {
	if [ "$installed" = 1 ]; then dpkg --purge schemadrift >/dev/null 2>&1 || true; fi
	if [ "$keep" = 1 ]; then echo "packages: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

failures=0
ok() { printf 'packages: ok    %s\n' "$*"; }
bad() { printf 'packages: FAIL  %s\n' "$*"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: one assertion.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
quiet() { "$@" >/dev/null; }
# mode_owner PATH MODE USER GROUP
mode_owner() { [ "$(stat -c '%a %U %G' "$1" 2>/dev/null)" = "$2 $3 $4" ]; }
# no_tags LOG: lintian/rpmlint output without an error or a warning.
no_tags() { ! grep -E '^([EW]: |[^ ]+: [EW]: )' "$1"; }

# The tree as it is, tracked and untracked files alike, but no build leftovers.
mkdir -p "$work/deb/src" "$work/rpm/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
	tar -C "$repo" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$work/deb/src"
cp -a "$work/deb/src/." "$work/rpm/src/"

jobs=$(nproc 2>/dev/null || echo 2)

# ---------------------------------------------------------------- the .deb
echo "== packages: dpkg-buildpackage"
cp -r "$work/deb/src/packaging/debian" "$work/deb/src/debian"
if ! (cd "$work/deb/src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
	dpkg-buildpackage -us -uc -b) >"$work/deb/build.log" 2>&1; then
	tail -n 40 "$work/deb/build.log"
	bad "dpkg-buildpackage (log: $work/deb/build.log)"
	keep=1
	exit 1
fi
deb=$(ls "$work"/deb/schemadrift_"$version"_*.deb)
ok "dpkg-buildpackage: $(basename "$deb")"

echo "== packages: lintian --pedantic"
# lintian says it should not run as root; the package is read, not installed.
lintian --pedantic --display-info --display-experimental --tag-display-limit 0 \
	"$work"/deb/schemadrift_"$version"_*.changes 2>&1 | grep -v 'root privileges' |
	tee "$work/deb/lintian.log" || true
check "lintian --pedantic: no E: or W: tags" no_tags "$work/deb/lintian.log"

echo "== packages: dpkg -i"
if ! dpkg -i "$deb" >"$work/deb/install.log" 2>&1; then
	cat "$work/deb/install.log"
	bad "dpkg -i"
	exit 1
fi
installed=1
ok "dpkg -i $(basename "$deb")"
# shellcheck disable=SC2016 # awk's own $3, $6, $7
check "user schemadrift: a system user, no login, home /var/lib/schemadrift" \
	awk -F: '$3 < 1000 && $6 == "/var/lib/schemadrift" && $7 ~ /nologin$/ { found = 1 }
		END { exit !found }' <(getent passwd schemadrift)
check "group schemadrift exists" quiet getent group schemadrift
check "/etc/schemadrift.conf is a conffile" \
	grep -q '^ /etc/schemadrift.conf ' <(dpkg-query -W -f='${Conffiles}\n' schemadrift)
check "/etc/schemadrift.conf 0640 root:schemadrift" \
	mode_owner /etc/schemadrift.conf 640 root schemadrift
check "/etc/schemadrift 0750 root:schemadrift" mode_owner /etc/schemadrift 750 root schemadrift
check "/var/lib/schemadrift 0750 schemadrift:schemadrift" \
	mode_owner /var/lib/schemadrift 750 schemadrift schemadrift
check "/usr/sbin/schemadriftd 0755 root:root" mode_owner /usr/sbin/schemadriftd 755 root root
check "docs the configuration names are shipped" \
	test -e /usr/share/doc/schemadrift/docs/notifiers.md.gz -o \
	-e /usr/share/doc/schemadrift/docs/notifiers.md
out=$(schemadriftd --check-config 2>&1) || true
echo "$out"
check "schemadriftd --check-config on the shipped file" \
	grep -qx '/etc/schemadrift.conf: configuration is valid (0 targets)' <<<"$out"
out=$(setpriv --reuid=schemadrift --regid=schemadrift --init-groups \
	schemadriftd --check-config 2>&1) || true
check "schemadriftd --check-config as user schemadrift (reads the 0640 file)" \
	grep -q 'configuration is valid' <<<"$out"

echo "== packages: systemd-analyze (offline)"
unit=/lib/systemd/system/schemadriftd.service
if systemd-analyze verify "$unit" >"$work/deb/verify.log" 2>&1; then
	ok "systemd-analyze verify $unit"
else
	cat "$work/deb/verify.log"
	bad "systemd-analyze verify $unit"
fi
systemd-analyze security --offline=true "$unit" >"$work/deb/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/deb/security.log")
echo "systemd-analyze security --offline=true: exposure ${exposure:-?}"
check "exposure ${exposure:-?} <= 1.5" awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 1.5) }'

echo "== packages: the daemon as its user, without systemd's RuntimeDirectory="
rm -rf /run/schemadrift
out=$(timeout 20 setpriv --reuid=schemadrift --regid=schemadrift --init-groups \
	schemadriftd -f 2>&1) && rc=0 || rc=$?
echo "$out"
check "without /run/schemadrift it says what to do (exit $rc)" \
	grep -q 'install -d -m 0750 -o schemadrift -g schemadrift /run/schemadrift' <<<"$out"
install -d -m 0750 -o schemadrift -g schemadrift /run/schemadrift
setpriv --reuid=schemadrift --regid=schemadrift --init-groups schemadriftd -f \
	>"$work/deb/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	[ -S /run/schemadrift/control.sock ] && break
	sleep 0.1
done
out=$(schemadrift status 2>&1) || true
echo "schemadrift status: $out"
check "schemadrift status answers from the installed daemon" test -S /run/schemadrift/control.sock
kill -TERM "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
check "the daemon stops on SIGTERM with 0 (got $rc)" test "$rc" = 0
rm -rf /run/schemadrift

echo "== packages: dpkg --purge"
dpkg --purge schemadrift >"$work/deb/purge.log" 2>&1 || { cat "$work/deb/purge.log"; bad "dpkg --purge"; }
installed=0
check "dpkg knows schemadrift no more" \
	test -z "$(dpkg-query -W -f='${db:Status-Status}' schemadrift 2>/dev/null | grep -v not-installed)"
for path in /etc/schemadrift.conf /etc/schemadrift /var/lib/schemadrift /usr/sbin/schemadriftd \
	/usr/bin/schemadrift "$unit" /usr/lib/sysusers.d/schemadrift.conf \
	/usr/lib/tmpfiles.d/schemadrift.conf /usr/share/doc/schemadrift \
	/etc/systemd/system/multi-user.target.wants/schemadriftd.service \
	/var/lib/systemd/deb-systemd-helper-enabled/schemadriftd.service.dsh-also; do
	check "purged: $path" test ! -e "$path" -a ! -L "$path"
done
# Debian keeps system users on purge (a recycled uid would inherit their files).
check "the user stays, as Debian's system users do" quiet getent passwd schemadrift

# ---------------------------------------------------------------- the RPM
echo "== packages: rpmbuild"
top=$work/rpm/top
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
tar -czf "$top/SOURCES/schemadrift-$version.tar.gz" -C "$work/rpm" \
	--transform "s,^src,schemadrift-$version," src
cp "$work/rpm/src/systemd/schemadrift.sysusers" "$top/SOURCES/"
# What Fedora's redhat-rpm-config, systemd-rpm-macros and cmake-rpm-macros
# define and Debian's rpm does not: paths, the CMake steps, the scriptlets.
cat >"$work/rpm/macros" <<'EOF'
%_sharedstatedir /var/lib
%_docdir %{_datadir}/doc
%_licensedir %{_datadir}/licenses
%_docdir_fmt %%{NAME}
%__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}
%_unitdir /usr/lib/systemd/system
%_sysusersdir /usr/lib/sysusers.d
%_tmpfilesdir /usr/lib/tmpfiles.d
%_enable_debug_packages 1
%install %{?_enable_debug_packages:%{?buildsubdir:%{debug_package}}}\
%%install\
%{nil}
%packager No maintainer set <nobody@schemadrift.invalid>
%__cmake_builddir redhat-linux-build
%cmake cmake -S . -B %{__cmake_builddir} -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX:PATH=%{_prefix} -DCMAKE_INSTALL_SYSCONFDIR:PATH=%{_sysconfdir} -DCMAKE_INSTALL_LOCALSTATEDIR:PATH=%{_localstatedir} -DCMAKE_C_FLAGS_RELWITHDEBINFO:STRING="%{optflags}" -DBUILD_TESTING=OFF
%cmake_build cmake --build %{__cmake_builddir} -j%{_smp_build_ncpus}
%cmake_install DESTDIR=%{buildroot} cmake --install %{__cmake_builddir}
%ctest ctest --test-dir %{__cmake_builddir} --output-on-failure
%sysusers_requires_compat Requires(pre): /usr/bin/systemd-sysusers
%sysusers_create_compat() /usr/bin/systemd-sysusers --replace=%{_sysusersdir}/%{name}.conf - <<'SYSUSERS'\
%(cat %1)\
SYSUSERS
%tmpfiles_create() /usr/bin/systemd-tmpfiles --create %{?*} >/dev/null 2>&1 || :
%systemd_post() if [ $1 -eq 1 ] && [ -x /usr/bin/systemctl ]; then /usr/bin/systemctl --no-reload preset %{?*} || :; fi
%systemd_preun() if [ $1 -eq 0 ] && [ -x /usr/bin/systemctl ]; then /usr/bin/systemctl --no-reload disable --now %{?*} || :; fi
%systemd_postun_with_restart() if [ $1 -ge 1 ] && [ -x /usr/bin/systemctl ]; then /usr/bin/systemctl try-restart %{?*} || :; fi
EOF
# --nodeps: the build dependencies are Debian packages, which rpm's database does not list.
if ! rpmbuild -bb --nodeps --nocheck --load "$work/rpm/macros" --define "_topdir $top" \
	--define "_smp_build_ncpus $jobs" "$work/rpm/src/packaging/rpm/schemadrift.spec" \
	>"$work/rpm/build.log" 2>&1; then
	tail -n 40 "$work/rpm/build.log"
	bad "rpmbuild (log: $work/rpm/build.log)"
	keep=1
	exit 1
fi
rpmfile=$(ls "$top"/RPMS/*/schemadrift-"$version"-*.rpm)
grep -E '^warning:' "$work/rpm/build.log" || true
check "rpmbuild without warnings: $(basename "$rpmfile")" \
	test -z "$(grep -E '^warning:' "$work/rpm/build.log")"

echo "== packages: rpmlint"
# Its settings say what Fedora does where Debian's rpmlint has openSUSE's defaults,
# and which findings are on purpose (each with its reason).
rpmlint -c "$work/rpm/src/packaging/rpm/rpmlint.toml" "$rpmfile" \
	"$work/rpm/src/packaging/rpm/schemadrift.spec" 2>&1 | tee "$work/rpm/rpmlint.log" || true
check "rpmlint: no E: or W:" no_tags "$work/rpm/rpmlint.log"
check "rpm: the manual pages schemadrift(1) and schemadriftd(8)" \
	test "$(rpm -qlp "$rpmfile" | grep -cE '/man/man(1/schemadrift\.1|8/schemadriftd\.8)\.gz$')" = 2
check "rpm: License: PostgreSQL" test "$(rpm -qp --qf '%{LICENSE}' "$rpmfile")" = PostgreSQL
check "rpm: LICENSE is a %license file" \
	grep -qx '/usr/share/licenses/schemadrift/LICENSE' <(rpm -qp --licensefiles "$rpmfile")

echo "== packages: the RPM owns its directories"
rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpmfile" |
	tee "$work/rpm/files.txt"
# The directories the base system (filesystem, systemd, man-db) owns.
base='^/(etc|usr/bin|usr/sbin|usr/lib|usr/share|usr/share/doc|usr/share/licenses|usr/share/man/man[0-9]|usr/lib/systemd/system|usr/lib/sysusers.d|usr/lib/tmpfiles.d|var/lib)$'
awk '{ print $3 }' "$work/rpm/files.txt" >"$work/rpm/owned.txt"
# shellcheck disable=SC2094 # both only read owned.txt
unowned=$(xargs -n 1 dirname <"$work/rpm/owned.txt" | sort -u | grep -Ev "$base" |
	grep -vxF -f "$work/rpm/owned.txt" | tr '\n' ' ' || true)
check "every parent directory is the package's or the base system's${unowned:+ (not: $unowned)}" \
	test -z "$unowned"
while read -r type path _; do
	[ "$type" = d ] || continue
	check "tmpfiles.d's $path is the package's" grep -qE "^d[^ ]* [^ ]+ $path\$" "$work/rpm/files.txt"
done <"$work/rpm/src/systemd/schemadrift.tmpfiles"

echo "== packages: $failures failure(s)"
[ "$failures" = 0 ]
