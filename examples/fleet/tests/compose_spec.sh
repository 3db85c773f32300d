#!/usr/bin/env bash
# Ensures the Compose specification's JSON schema is at
# target/compose-spec/compose_spec.json and prints its path. The schema is the one
# docker-compose 1.29.2 ships (compose/config/compose_spec.json in its wheel),
# fetched once from PyPI with pip.
set -euo pipefail
cd "$(dirname "$0")/../../.."

schema="$PWD/target/compose-spec/compose_spec.json"
if [ ! -s "$schema" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary :all: \
        docker-compose==1.29.2 -d "$tmp" >&2
    mkdir -p "$(dirname "$schema")"
    python3 - "$tmp" "$schema" <<'PY'
import glob
import os
import sys
import zipfile

tmp, schema = sys.argv[1], sys.argv[2]
wheels = glob.glob(f"{tmp}/docker_compose-1.29.2-*.whl")
if len(wheels) != 1:
    sys.exit(f"expected one docker-compose 1.29.2 wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as wheel:
    data = wheel.read("compose/config/compose_spec.json")
# Written through a temporary name so that an interrupted run leaves no partial file.
with open(schema + ".part", "wb") as out:
    out.write(data)
os.replace(schema + ".part", schema)
PY
fi
echo "$schema"
