#!/usr/bin/env python3
"""Machine-code check of the raw Neutrino kernel-call stubs in a built qnx-fdpass rlib.

Usage: stubcheck.py OBJDUMP TARGET RLIB

The stubs' symbols carry the crate's major and minor version (`__qnx_fdpass_v0_1_ker_connect_attach`
for 0.1.x, src/sys/nto/arch/stubs.rs); the version is read from the crate's Cargo.toml, as the crate
takes it (CARGO_PKG_VERSION_*), so a stub built without it, or with another, is not found.

Disassembles RLIB with llvm-objdump and checks it against two tables kept HERE, both transcribed from
qnx-abi.md independently of the crate's source (src/sys/nto/nr.rs and arch/*.rs), so an error in either
the crate or this file fails:

  * CALLS: the kernel-call numbers (section 3) and argument counts (section 4.3 prototypes);
  * VENDOR: QNX's own libc `_r` stubs as disassembled (section 9: SDP 7.0 libc.so.4 for aarch64 and
    x86_64, 6.4 libc.so.3 for 32-bit x86), instruction for instruction, and the rule each architecture's
    stubs follow, which must reproduce every quoted stub before it is trusted for the calls not quoted.

For each architecture (aarch64; x86_64; 32-bit x86, targets i686-*) it checks that:

  * every expected trap stub exists (connect_dupfd only on QNX 8.0, and it must be absent on 7.x);
  * each stub is exactly the vendor's `_r` instruction sequence for the same call: the call number in
    w8 / eax right before the trap (svc #0x51 / syscall / int $0x28), the 4th argument moved rcx -> r10
    on x86_64 by calls that have one, MsgSend / MsgSendnc negating both buffer lengths (x2, x4 / rdx, r8 /
    the 3rd and 5th stack arguments), a success `ret` right after the trap and `neg; ret` where the kernel
    resumes on error (4 bytes later on aarch64, 1 byte later on x86_64 and x86);
    ConnectDetach and ChannelDestroy, whose libc `_r` variants return the positive errno (`ret; ret`),
    must have the vendor's negating tail instead (the crate's choice: see arch/*.rs), and the rest of
    their vendor sequence;
  * the raw `getpid` reads the pid from the thread's TLS block with the vendor's two instructions and
    makes no kernel call;
  * every trap instruction in the library is inside one of the stubs;
  * each typed wrapper in sys::nto::raw calls its own stub and no other.

Exit status 0 when everything holds, 1 otherwise. Python 3 standard library only.
"""

import os
import re
import subprocess
import sys

# qnx-abi.md section 3 (kernel call enum / #define list, QNX 6.4, 7.0, 7.1, 8.0) and the section 4.3
# prototypes. name: (number, C arguments, negates buffer lengths, QNX 8.0 only)
CALLS = {
    "msg_send": (11, 5, True, False),  # __KER_MSG_SENDV, MsgSend(coid, smsg, sbytes, rmsg, rbytes)
    "msg_sendnc": (12, 5, True, False),  # __KER_MSG_SENDVNC
    "channel_create": (35, 1, False, False),  # __KER_CHANNEL_CREATE, ChannelCreate(flags)
    "channel_destroy": (36, 1, False, False),  # __KER_CHANNEL_DESTROY, ChannelDestroy(chid)
    "connect_attach": (39, 5, False, False),  # __KER_CONNECT_ATTACH, ConnectAttach(nd, pid, chid, index, flags)
    "connect_detach": (40, 1, False, False),  # __KER_CONNECT_DETACH, ConnectDetach(coid)
    "connect_server_info": (41, 3, False, False),  # __KER_CONNECT_SERVER_INFO, ConnectServerInfo(pid, coid, info)
    "connect_flags": (43, 4, False, False),  # __KER_CONNECT_FLAGS, ConnectFlags(pid, coid, mask, bits)
    "connect_dupfd": (44, 5, False, True),  # __KER_CONNECT_DUPFD (8.0 only), ConnectDupFd(op, dst, h, srv, info)
    "timer_timeout": (75, 5, False, False),  # __KER_TIMER_TIMEOUT, TimerTimeout(id, flags, notify, ntime, otime)
}
# libc `_r` variants that return the positive errno (`trap; ret; ret`) rather than -errno.
VENDOR_POSITIVE_ERRNO = {"connect_detach", "channel_destroy"}

# QNX libc `_r` stubs as disassembled (qnx-abi.md section 9), spelled as llvm-objdump prints the same
# instructions (immediates in decimal after normalisation). 32-bit x86: 6.4 libc also carries a run-time
# choice between `sysenter` and `int $0x28` (a syspage flag test); only the `int $0x28` branch is listed,
# which is what the crate's stubs are.
VENDOR = {
    "aarch64": {  # section 9.1, SDP 7.0 libc.so.4 (aarch64le)
        "connect_attach": "mov w8, #39; svc #81; ret; neg x0, x0; ret",
        "msg_sendnc": "neg x2, x2; neg x4, x4; mov w8, #12; svc #81; ret; neg x0, x0; ret",
        "connect_detach": "mov w8, #40; svc #81; ret; ret",
        "timer_timeout": "mov w8, #75; svc #81; ret; neg x0, x0; ret",  # TimerTimeout_r at 0x4d2a0
    },
    "x86_64": {  # section 9.2, SDP 7.0 libc.so.4 (x86_64)
        "connect_attach": "movq %rcx, %r10; movl $39, %eax; syscall; retq; negq %rax; retq",
        "connect_server_info": "movl $41, %eax; syscall; retq; negq %rax; retq",
        "msg_sendnc": "movq %rcx, %r10; negq %rdx; negq %r8; movl $12, %eax; syscall; retq; negq %rax; retq",
        "timer_timeout": "movq %rcx, %r10; movl $75, %eax; syscall; retq; negq %rax; retq",  # TimerTimeout_r, 0x4d280
    },
    "x86": {  # section 9.3 and the 6.4 fixture: 6.4 libc.so.3, the int $0x28 branch
        "msg_sendnc": "negl 12(%esp); negl 20(%esp); movl $12, %eax; int $40; retl; negl %eax; retl",
        "msg_send": "negl 12(%esp); negl 20(%esp); movl $11, %eax; int $40; retl; negl %eax; retl",
        "connect_attach": "movl $39, %eax; int $40; retl; negl %eax; retl",
        "connect_server_info": "movl $41, %eax; int $40; retl; negl %eax; retl",
        "channel_create": "movl $35, %eax; int $40; retl; negl %eax; retl",
        "connect_flags": "movl $43, %eax; int $40; retl; negl %eax; retl",
        "connect_detach": "movl $40, %eax; int $40; retl; retl",
        "channel_destroy": "movl $36, %eax; int $40; retl; retl",
    },
}


def vendor_rule(arch, nr, nargs, negates, negative=True):
    """The instruction sequence of libc's `_r` stub for a call, by the rule the quoted stubs follow."""
    seq = []
    if arch == "aarch64":
        if negates:
            seq += ["neg x2, x2", "neg x4, x4"]
        seq += [f"mov w8, #{nr}", "svc #81", "ret"] + (["neg x0, x0", "ret"] if negative else ["ret"])
    elif arch == "x86_64":
        if nargs >= 4:
            seq += ["movq %rcx, %r10"]  # syscall overwrites rcx: the 4th argument travels in r10
        if negates:
            seq += ["negq %rdx", "negq %r8"]
        seq += [f"movl ${nr}, %eax", "syscall", "retq"] + (["negq %rax", "retq"] if negative else ["retq"])
    else:
        if negates:
            seq += ["negl 12(%esp)", "negl 20(%esp)"]
        seq += [f"movl ${nr}, %eax", "int $40", "retl"] + (["negl %eax", "retl"] if negative else ["retl"])
    return seq


# The raw getpid: libc's getpid (section 9), a TLS read and no kernel call. Regexes over the wrapper's
# instructions; the register the compiler picks is free, but must be the same in both instructions.
TLS_PID = {
    "aarch64": (r"mrs (x\d+), tpidrro_el0", r"ldr w\d+, \[{0}, #32\]"),  # section 9.1
    "x86_64": (r"movq %fs:56, %(\w+)", r"movl 32\(%{0}\), %\w+"),  # section 9.2
    "x86": (r"movl %fs:0, %(\w+)", r"movl 20\(%{0}\), %\w+"),  # section 9.3
}
TRAPS = {"aarch64": "svc", "x86_64": "syscall", "x86": "int"}
ARCHES = {"aarch64": "aarch64", "x86_64": "x86_64", "i686": "x86", "i586": "x86"}


def stub_prefix():
    """`__qnx_fdpass_v{major}_{minor}_ker_`, from the [package] version in the crate's Cargo.toml."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Cargo.toml")) as f:
        text = f.read()
    # The first `version` after the [package] header (tomllib would need Python 3.11).
    package = text[re.search(r"^\[package\]", text, re.M).end() :]
    major, minor = re.search(r'^version\s*=\s*"(\d+)\.(\d+)\.', package, re.M).groups()
    return f"__qnx_fdpass_v{major}_{minor}_ker_"


STUB_PREFIX = stub_prefix()
WRAPPER_PREFIX = "qnx_fdpass::sys::nto::raw::"

FUNC_RE = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN_RE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
RELOC_RE = re.compile(r"^\s*[0-9a-f]+:\s+(R_\S+)\s+(\S+)")


def norm(text):
    """One instruction as `mnemonic operands`, lower case, hex immediates and displacements in decimal."""
    text = " ".join(text.lower().split())
    return re.sub(r"(?<![\w.])0x([0-9a-f]+)", lambda m: str(int(m.group(1), 16)), text)


def split(seq):
    return [norm(i) for i in seq.split(";")] if isinstance(seq, str) else [norm(i) for i in seq]


def parse(text, arch):
    """{function name: {"insns": [(addr, "mnemonic operands")], "relocs": [symbol]}} (first definition wins)."""
    funcs, cur = {}, None
    for line in text.splitlines():
        m = FUNC_RE.match(line)
        if m:
            name = re.sub(r"::h[0-9a-f]{16}$", "", m.group(2))
            cur = {"insns": [], "relocs": []}
            funcs.setdefault(name, cur)
            continue
        if line.startswith("Disassembly of section") or "file format" in line:
            cur = None
            continue
        if cur is None or not line.strip():
            continue
        m = RELOC_RE.match(line)
        if m:
            cur["relocs"].append(re.sub(r"[+-]0x[0-9a-f]+$", "", m.group(2)))
            continue
        m = INSN_RE.match(line)
        if m:
            # Drop the disassembler's comments (`// =39` on aarch64, `# 0x...` in AT&T) and branch targets.
            ops = m.group(3).split("//")[0].split("<")[0]
            if arch != "aarch64":
                ops = ops.split("#")[0]
            cur["insns"].append((int(m.group(1), 16), norm(f"{m.group(2)} {ops}")))
    return funcs


def explain(arch, insns, nr, nargs, negates):
    """Why a stub differs from the vendor sequence, in terms of the ABI (for the FAIL lines)."""
    errs = []
    trap = TRAPS[arch]
    traps = [i for i, (_, ins) in enumerate(insns) if ins.split()[0] == trap]
    if len(traps) != 1:
        return [f"expected exactly one `{trap}`, found {len(traps)}"]
    t = traps[0]
    before = [ins for _, ins in insns[:t]]
    numreg = {"aarch64": r"mov w8, #(-?\d+)$", "x86_64": r"movl \$(-?\d+), %eax$", "x86": r"movl \$(-?\d+), %eax$"}[arch]
    loads = [re.match(numreg, i) for i in before]
    loads = [m for m in loads if m]
    if not loads:
        errs.append(f"no call number loaded before the trap ({'; '.join(before)})")
    elif int(loads[-1].group(1)) != nr:
        errs.append(f"call number: {loads[-1].group(1)} loaded, expected {nr}")
    negs = [i for i in before if i.startswith("neg")]
    want = {"aarch64": ["neg x2, x2", "neg x4, x4"], "x86_64": ["negq %rdx", "negq %r8"],
            "x86": ["negl 12(%esp)", "negl 20(%esp)"]}[arch] if negates else []
    if negs != want:
        errs.append(f"length negation before the trap: found {negs}, expected {want}")
    if arch == "x86_64" and (("movq %rcx, %r10" in before) != (nargs >= 4)):
        errs.append(f"rcx -> r10 copy {'missing' if nargs >= 4 else 'unexpected'} ({nargs} arguments)")
    at = dict(insns)
    taddr = insns[t][0]
    ret, resume = {"aarch64": (4, 8), "x86_64": (2, 3), "x86": (2, 3)}[arch]
    if at.get(taddr + ret, "").split(" ")[0] not in ("ret", "retq", "retl"):
        errs.append(f"no `ret` right after the trap (success path): {at.get(taddr + ret)}")
    if not at.get(taddr + resume, "").startswith("neg"):
        errs.append(f"no `neg` where the kernel resumes on error (trap + {resume} bytes): {at.get(taddr + resume)}")
    return errs


def main():
    objdump, target, rlib = sys.argv[1:4]
    arch = next(v for k, v in ARCHES.items() if target.startswith(k))
    is_v8 = "qnx800" in target or target.endswith("-qnx")
    failures = 0

    def report(what, errs):
        nonlocal failures
        if errs:
            failures += 1
            for e in errs:
                print(f"FAIL {target} {what}: {e}")
        else:
            print(f"ok   {target} {what}")

    # The rule must reproduce every quoted vendor stub before it stands for the others.
    for name, quoted in VENDOR[arch].items():
        nr, nargs, negates, _ = CALLS[name]
        rule = vendor_rule(arch, nr, nargs, negates, negative=name not in VENDOR_POSITIVE_ERRNO)
        report(f"vendor rule reproduces libc's {name} `_r` stub",
               [] if split(rule) == split(quoted) else [f"rule {rule} != vendor {quoted}"])

    out = subprocess.run([objdump, "-d", "-r", "--no-show-raw-insn", "--demangle", rlib],
                         capture_output=True, text=True)
    if not out.stdout.strip():
        print(f"FAIL {target}: llvm-objdump produced no disassembly: {out.stderr.strip()}")
        return 1
    funcs = parse(out.stdout, arch)

    for name, (nr, nargs, negates, v8_only) in CALLS.items():
        sym = STUB_PREFIX + name
        present = sym in funcs
        if v8_only and not is_v8:
            report(f"{sym} absent on QNX 7.x", [f"{sym} exists on a 7.x target"] if present else [])
            continue
        if arch == "x86" and v8_only:
            continue
        if not present:
            report(sym, ["stub not found in the library"])
            continue
        insns = funcs[sym]["insns"]
        got = [ins for _, ins in insns]
        want = split(vendor_rule(arch, nr, nargs, negates))
        errs = explain(arch, insns, nr, nargs, negates)
        if got != want:
            errs.append(f"not libc's `_r` sequence for this call: got [{'; '.join(got)}], "
                        f"vendor [{'; '.join(want)}]")
        if name in VENDOR_POSITIVE_ERRNO:
            # Everything up to the success `ret` is libc's; the error tail is the negating one on purpose.
            positive = split(vendor_rule(arch, nr, nargs, negates, negative=False))[:-1]
            if got[: len(positive)] != positive:
                errs.append(f"differs from libc's `_r` stub before its error tail: [{'; '.join(positive)}]")
        report(f"{sym} (nr {nr}{', negated lengths' if negates else ''}) is libc's `_r` stub", errs)
        wrapper = WRAPPER_PREFIX + name
        if wrapper not in funcs:
            report(wrapper, ["typed wrapper not found (built with inlining?)"])
            continue
        called = {r for r in funcs[wrapper]["relocs"] if r.startswith(STUB_PREFIX)}
        report(f"{wrapper} -> {sym}", [] if called == {sym} else [f"calls stubs {sorted(called)}, expected [{sym}]"])

    getpid = WRAPPER_PREFIX + "getpid"
    if getpid not in funcs:
        report(getpid, ["not found (built with inlining?)"])
    else:
        ins = [i for _, i in funcs[getpid]["insns"]]
        first, second = TLS_PID[arch]
        errs = ["no TLS read: " + "; ".join(ins)]
        for k, i in enumerate(ins[:-1]):
            m = re.fullmatch(first, i)
            if m and re.fullmatch(second.format(re.escape(m.group(1))), ins[k + 1]):
                errs = []
        stubs = sorted(r for r in funcs[getpid]["relocs"] if r.startswith(STUB_PREFIX))
        if stubs or any(i.split()[0] == TRAPS[arch] for i in ins):
            errs.append(f"makes a kernel call: {stubs}")
        report(f"{getpid} reads the pid from TLS as libc does, no kernel call", errs)

    trap = TRAPS[arch]
    stray = [f"{f}+{a:#x}" for f, d in funcs.items() if not f.startswith(STUB_PREFIX)
             for a, i in d["insns"] if i.split()[0] == trap]
    report(f"no `{trap}` outside the stubs", [f"trap instruction outside the stubs: {', '.join(stray)}"] if stray else [])
    print(f"{'FAIL' if failures else 'PASS'} {target}: {failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
