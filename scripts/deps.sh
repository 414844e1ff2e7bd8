#!/usr/bin/env bash
# Installs the Debian 12 packages that schemadrift's build, tests and demo need (idempotent).
#
# Usage: scripts/deps.sh [--check]
#
#   --check   only report: exit 0 when everything is installed, 1 when not
#
# Checks with dpkg-query first and does nothing more when every package is
# there (and promtool, see below).  Otherwise installs the missing ones with
# `apt-get install -y --no-install-recommends`, running `apt-get update` only
# when the package lists are missing, do not know a package, or turn out to
# be stale.  As a normal user it uses sudo; without sudo it prints the command
# to run and exits 2.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config
	libpq-dev libevent-dev libjansson-dev libssl-dev
	# tests: Check for unit tests, a private PostgreSQL 15, Debian's python3
	check postgresql-15 postgresql-client-15 python3
	# chosen for the issues that follow (webhooks, mail, sd_notify, leak checks)
	libcurl4-openssl-dev libesmtp-dev libsystemd-dev python3-aiosmtpd valgrind
	# fuzzing (scripts/fuzz.sh): clang and its runtime (-fsanitize=fuzzer)
	clang libclang-rt-14-dev
	# the report in a real browser (headless); promtool: see below
	chromium
	# packages built and checked (scripts/packages.sh)
	debhelper lintian rpm rpmlint elfutils
)

# promtool (`promtool check metrics` in the tests) comes from Debian's prometheus
# package, which would also install, enable and start a Prometheus server: only
# the one static binary is extracted from it, to /opt/schemadrift-deps/bin, where
# the tests look for it (tests/integration/pgharness.py promtool_path()).  Not
# /usr/local/bin: machines that manage that directory themselves replace it
# whole, and a promtool there was seen to vanish in the middle of a test run.
promtool_dest=/opt/schemadrift-deps/bin/promtool
have_promtool() { [ -x "$promtool_dest" ]; }

check_only=0
case ${1:-} in
'') ;;
--check) check_only=1 ;;
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
*)
	echo "deps.sh: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

# One dpkg-query for all of them: packages it does not know are missing too.
missing_packages() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
		awk '$2 == "installed" { print $1 }' || true)
	local p
	for p in "${packages[@]}"; do
		if ! grep -qxF "$p" <<<"$installed"; then
			printf '%s\n' "$p"
		fi
	done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this script is for Debian 12 (bookworm)." >&2
	echo "deps.sh: install the equivalents of: ${packages[*]}" >&2
	exit 2
fi

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -eq 0 ] && [ -x /usr/bin/python3 ] && have_promtool; then
	echo "deps: all ${#packages[@]} packages are installed, and promtool"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	have_promtool || missing+=(promtool)
	[ -x /usr/bin/python3 ] || missing+=(/usr/bin/python3)
	echo "deps: missing: ${missing[*]}"
	exit 1
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "deps.sh: not root and sudo is not available; as root, run:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		exit 2
	fi
fi

apt_env=(env DEBIAN_FRONTEND=noninteractive)
# Wait for another apt (e.g. unattended-upgrades on a fresh machine) instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=300 -o APT::Get::Assume-Yes=true)

apt_update() {
	echo "deps: apt-get update"
	"${sudo[@]}" "${apt_env[@]}" apt-get "${apt_opts[@]}" -q update
}

# Update first only when the lists cannot know every missing package.
updated=0
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	apt_update
	updated=1
else
	for p in "${missing[@]}"; do
		if ! apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then
			apt_update
			updated=1
			break
		fi
	done
fi

# Only promtool is wanted from the prometheus package: its server must not start on this
# machine.  A policy-rc.d that answers 101 keeps maintainer scripts from starting any
# service during the install (unless one is in place already), and the unit is disabled
# afterwards (only when this run installed it) so a reboot does not start it either.
policy=/usr/sbin/policy-rc.d
own_policy=0
new_prometheus=0
start_guard() {
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# deps.sh: no service starts while packages are installed\nexit 101\n' |
			"${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 755 "$policy"
		own_policy=1
	fi
}
end_guard() {
	if [ "$own_policy" = 1 ]; then
		"${sudo[@]}" rm -f "$policy"
		own_policy=0
	fi
	if [ "$new_prometheus" = 1 ] && [ -d /run/systemd/system ] &&
		command -v systemctl >/dev/null 2>&1; then
		"${sudo[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
}
trap end_guard EXIT

install() {
	start_guard
	if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
		new_prometheus=1
	fi
	"${sudo[@]}" "${apt_env[@]}" apt-get "${apt_opts[@]}" -q install -y \
		--no-install-recommends "${missing[@]}"
}

# apt-get download of prometheus, then its usr/bin/promtool alone.
install_promtool() {
	local dir rc=0
	dir=$(mktemp -d)
	# apt fetches as _apt where that user exists: let it write there.
	if getent passwd _apt >/dev/null; then "${sudo[@]}" chown _apt "$dir"; fi
	(cd "$dir" && "${sudo[@]}" apt-get "${apt_opts[@]}" -q download prometheus) || rc=$?
	if [ "$rc" = 0 ]; then
		dpkg-deb --fsys-tarfile "$dir"/prometheus_*.deb | tar -xO ./usr/bin/promtool >"$dir/promtool" &&
			"${sudo[@]}" env install -D -m 0755 "$dir/promtool" "$promtool_dest" || rc=$?
	fi
	"${sudo[@]}" rm -rf "$dir"
	return "$rc"
}

if [ ${#missing[@]} -eq 0 ] && [ -x /usr/bin/python3 ]; then
	if ! have_promtool; then
		echo "deps: installing promtool"
		install_promtool && have_promtool ||
			{ echo "deps.sh: cannot extract promtool from prometheus to $promtool_dest" >&2; exit 2; }
	fi
	echo "deps: all ${#packages[@]} packages are installed, and promtool"
	exit 0
fi
[ ${#missing[@]} -gt 0 ] || missing=(python3) # the package is there, the binary is not
echo "deps: installing ${missing[*]}"

if ! install; then
	if [ "$updated" = 1 ]; then
		echo "deps.sh: apt-get install failed" >&2
		exit 2
	fi
	# Stale lists (a package version that is gone from the mirror): refresh, retry once.
	apt_update
	install || { echo "deps.sh: apt-get install failed" >&2; exit 2; }
fi

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps.sh: still missing after install: ${missing[*]}" >&2
	exit 2
fi
if ! have_promtool; then
	echo "deps: installing promtool"
	install_promtool && have_promtool ||
		{ echo "deps.sh: cannot extract promtool from prometheus to $promtool_dest" >&2; exit 2; }
fi
echo "deps: all ${#packages[@]} packages are installed, and promtool"
