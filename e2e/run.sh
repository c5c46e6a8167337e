#!/usr/bin/env bash
# npm run test:e2e, once compiled: the host test from the host's network namespace (as a user's shell runs
# lab:up and lab:down), then every other e2e file inside the lab's namespace through lab/exec.sh, where the tests
# reach the clusters at the addresses pods use too, one file after another (they share the one lab). Both always run;
# the exit code says whether both passed.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
node --test --test-reporter=spec build/e2e/host.test.js || rc=1
lab=()
for f in build/e2e/*.test.js; do [ "$f" = build/e2e/host.test.js ] || lab+=("$f"); done
bash lab/exec.sh node --test --test-concurrency=1 --test-reporter=spec "${lab[@]}" || rc=1
exit "$rc"
