#!/usr/bin/env bash
# Mutation testing of what the last change touched: `cargo mutants --in-diff` (configuration in
# .cargo/mutants.toml) over the lines of src/ that the change added or modified; fails if a mutant there
# survives the tests ("missed"). One that makes them hang ("timeout") was noticed, and is listed.
#
# The base of "the change". CI checks out main with no pull-request base, so:
#   1. MUTANTS_BASE, when set (any commit-ish: `MUTANTS_BASE=origin/main bash .ci/test.d/mutants.sh`
#      on a branch tests everything the branch changed);
#   2. else the tag `mutants-base`, if the repository has one (its merge-base with HEAD): move the tag
#      to the last commit whose mutants were all caught to test everything since;
#   3. else, when HEAD is a merge, its second parent HEAD^2: branches land on main by fast-forward after
#      `git merge main`, so such a merge's second parent is the main it caught up with, and the diff is
#      everything the landing adds to main;
#   4. else HEAD's first parent, HEAD^1: the last commit.
# No base (a shallow clone, a root commit): nothing to compare with, and the step says so and passes.
#
# Cheap when the diff touches no Rust source that cargo-mutants examines (a second), and bounded when it
# touches much: above MUTANTS_MAX mutants (default 40) one shard of them is tested, picked by HEAD's
# hash so that successive commits test different shards. The full run is `cargo mutants` (no arguments).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never

base=${MUTANTS_BASE:-}
if [ -z "$base" ] && git rev-parse -q --verify refs/tags/mutants-base >/dev/null; then
  base=$(git merge-base HEAD refs/tags/mutants-base)
fi
if [ -z "$base" ]; then
  if ! base=$(git rev-parse -q --verify 'HEAD^2') && ! base=$(git rev-parse -q --verify 'HEAD^1'); then
    echo "mutants: HEAD has no parent here (shallow clone or root commit): no change to test"
    exit 0
  fi
fi
echo "mutants: base $(git rev-parse --short "$base"), head $(git rev-parse --short HEAD)"

# Outside target/, which is copied into cargo-mutants' build directory.
out=${MUTANTS_OUT:-$(mktemp -d)}
mkdir -p "$out"
diff="$out/change.diff"
# The sources cargo-mutants examines (`*` spans directories in a git pathspec; .cargo/mutants.toml
# leaves out the QNX-only ones itself).
git diff "$base" HEAD -- 'src/*.rs' >"$diff"
if [ ! -s "$diff" ]; then
  echo "mutants: the change touches no Rust source under src/: nothing to test"
  exit 0
fi

# A failure of cargo-mutants itself (a bad regex in .cargo/mutants.toml) fails the step: it is not "0 mutants".
list=$(cargo mutants --in-diff "$diff" --list) || {
  echo "mutants: FAILED: cargo mutants --list"
  exit 1
}
n=$(grep -c . <<<"$list" || true)
echo "mutants: $n mutants in the lines the change touched"
if [ "$n" -eq 0 ]; then
  exit 0
fi
shard=()
max=${MUTANTS_MAX:-40}
if [ "$n" -gt "$max" ]; then
  k=$(((n + max - 1) / max))
  i=$((16#$(git rev-parse --short=8 HEAD) % k))
  shard=(--shard "$i/$k")
  echo "mutants: more than $max: testing shard $i of $k (set MUTANTS_MAX to test more)"
fi

# Reuse the test step's build (the copy then only rebuilds this crate); two jobs on CI's own machine.
status=0
cargo mutants --in-diff "$diff" "${shard[@]}" --copy-target true --jobs "${MUTANTS_JOBS:-2}" \
  --output "$out" --no-shuffle || status=$?
o="$out/mutants.out"
for f in caught missed timeout unviable; do
  # grep -c prints 0 and exits 1 for an empty file: one number either way, 0 for an absent file.
  c=0
  if [ -f "$o/$f.txt" ]; then
    c=$(grep -c . "$o/$f.txt" || true)
  fi
  printf 'mutants: %-8s %s\n' "$f" "$c"
done
# cargo-mutants exits 2 for missed mutants, 3 for timeouts (and none missed), 4 when the unmutated tree
# fails its tests. A timeout is a mutant the tests noticed (they never passed: a loop that no longer ends),
# so only a survivor fails the step.
case $status in
  0) echo "mutants: every mutant in the change was caught" ;;
  3)
    echo "mutants: every mutant in the change was caught, these by hanging the tests:"
    sed 's/^/  /' "$o/timeout.txt"
    status=0
    ;;
  2)
    echo "mutants: FAILED: survivors:"
    sed 's/^/  /' "$o/missed.txt"
    ;;
  *) echo "mutants: FAILED: cargo mutants exited $status" ;;
esac
exit "$status"
