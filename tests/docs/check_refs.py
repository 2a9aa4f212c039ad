#!/usr/bin/env python3
"""Every test a document cites exists: a `path` names a file of the repository, a
`path::name` a function defined in it (Rust `fn`, Python `def`, Kotlin `fun`, JS `test(...)`),
and a Python test named in parentheses after `tests/http/test_api.py` is defined there.

A renamed or deleted test or file would leave a claim standing on nothing. (SECURITY.md, which
maps each ASVS item to the tests that prove it, is checked by core/sessionkit-sqlite/tests/
security_doc.rs, which also requires each citation to be a test.) Run from the repository root: `python3 tests/docs/check_refs.py`.
"""
import os
import re
import sys

# SECURITY.md has a stricter check of its own (each citation must be a test):
# core/sessionkit-sqlite/tests/security_doc.rs.
DOCS = ["README.md", "BENCHMARKS.md", "docs/SPEC.md", "web/README.md",
        "bindings/ffi/README.md"]
EXTENSIONS = "rs|json|py|mjs|kt|js|sh|swift|ts"
# `path` or `path::name`, where path has a directory (bare file names are prose shorthand).
CITATION = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:%s))(?:::(\w+))?`" % EXTENSIONS)
PYTHON_NAMES = re.compile(r"`(tests/http/test_api\.py)` \(([^)]*)\)")


def defines(text, name):
    patterns = [
        r"\bfn\s+%s\b" % name,              # Rust
        r"\bdef\s+%s\b" % name,             # Python
        r"\bfun\s+`?%s\b" % name,           # Kotlin
        r"\btest\(\s*['\"`]%s" % name,      # node:test by title
    ]
    return any(re.search(p, text) for p in patterns)


def main():
    problems = []
    cited = 0
    for doc in DOCS:
        if not os.path.exists(doc):
            continue
        text = open(doc, encoding="utf-8").read()
        found = [(m.group(1), m.group(2)) for m in CITATION.finditer(text)]
        for path, names in PYTHON_NAMES.findall(text):
            found += [(path, n) for n in re.findall(r"`(test_\w+)`", names)]
        for path, name in found:
            if "NAME" in path or "*" in path:
                continue
            if path.startswith("target/"):
                continue  # written by a run, not kept in the repository
            cited += 1
            # From the repository root, or from the document's own directory.
            here = os.path.join(os.path.dirname(doc), path)
            path = path if os.path.exists(path) else here
            if not os.path.exists(path):
                problems.append(f"{doc}: `{path}` does not exist")
            elif name and os.path.isfile(path):
                if not defines(open(path, encoding="utf-8").read(), name):
                    problems.append(f"{doc}: `{path}::{name}` is not defined there")
    for p in problems:
        print(p)
    print(f"doc citations: {cited} checked, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
