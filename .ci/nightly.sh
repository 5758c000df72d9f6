# Sourced by every script that needs nightly Rust: QNX cross builds, Miri, fuzzing, the code-size report and
# the Neutrino guest's payload. Sets NIGHTLY to the dated toolchain named in targets/nightly, the one place
# it is written (an already exported NIGHTLY wins, which is how the nightly-canary step tries the newest).
# To move to a newer nightly, change targets/nightly; the nightly-canary step shows beforehand what breaks.
NIGHTLY=${NIGHTLY:-$(tr -d '[:space:]' <"$(dirname "${BASH_SOURCE[0]}")/../targets/nightly")}
export NIGHTLY
