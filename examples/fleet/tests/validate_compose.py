#!/usr/bin/env python3
"""Validates compose files against the Compose specification's JSON schema.

usage: validate_compose.py SCHEMA.json FILE.yml...

Every file is loaded with yaml.safe_load and validated with the validator class the
schema's `$schema` names. Every error is printed with its file and path; the exit
status is 1 if any file has an error (or cannot be read), 0 otherwise.
"""

import json
import sys

import jsonschema
import yaml


def validator_named_by(schema):
    """The validator class for the draft the schema's `$schema` names.

    The compose schema writes `http://json-schema.org/draft/2019-09/schema#`, while
    jsonschema knows the draft as `https://json-schema.org/draft/2019-09/schema`; a
    plain lookup would silently fall back to the newest draft.
    """
    named = schema.get("$schema", "")
    candidates = [named, named.rstrip("#")]
    if named.startswith("http://"):
        candidates += ["https://" + c[len("http://"):] for c in candidates]
    for candidate in candidates:
        found = jsonschema.validators.validator_for({"$schema": candidate}, default=None)
        if found is not None:
            return found
    return None


def location(error):
    path = "/".join(str(part) for part in error.absolute_path)
    return path or "(top level)"


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = validator_named_by(schema)
    if validator_class is None:
        print(f"{argv[1]}: no validator for $schema {schema.get('$schema')!r}", file=sys.stderr)
        return 2
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    failed = False
    for name in argv[2:]:
        try:
            with open(name, encoding="utf-8") as f:
                document = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            print(f"{name}: cannot load: {e}")
            failed = True
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        for error in errors:
            print(f"{name}: {location(error)}: {error.message}")
        if errors:
            failed = True
        else:
            print(f"{name}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
