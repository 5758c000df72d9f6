#!/usr/bin/env python3
"""Machine-code check of the raw Neutrino kernel-call stubs in a built qnx-fdpass rlib.

Usage: stubcheck.py OBJDUMP TARGET RLIB

Disassembles RLIB with llvm-objdump and checks, against a table kept HERE (transcribed independently
of src/sys/nto/nr.rs from qnx-abi.md section 3, so a typo in either one fails):

  * every expected trap stub exists (connect_dupfd only on QNX 8.0, and it must be absent on 7.x);
  * each stub loads the right call number into the right register right before the trap
    (aarch64: `mov w8, #N` then `svc #0x51`; x86_64: `mov %rcx, %r10`, `mov $N, %eax` then `syscall`;
    32-bit x86: `mov $N, %eax` then `int $0x28`, arguments left on the stack);
  * MsgSend / MsgSendnc negate both buffer lengths before the trap (aarch64 x2, x4; x86_64 rdx, r8;
    x86 the 3rd and 5th stack arguments, `negl 0xc(%esp)`, `negl 0x14(%esp)`);
  * the error path returns -errno: aarch64 `ret` right after the trap, then `neg x0, x0; ret`
    (the kernel resumes 4 bytes after the trap); x86_64 `ret` right after the trap, and for every
    resume offset 1..4 bytes past the end of `syscall` only nops lead to `neg %rax; ret`; x86 a 1-byte
    `ret` after `int $0x28`, then `neg %eax; ret` (the kernel resumes 1 byte later);
  * each stub is exactly that sequence (nothing else touches the registers);
  * every trap instruction in the library is inside one of these stubs;
  * each typed wrapper in sys::nto::raw calls its own stub and no other.

Exit status 0 when everything holds, 1 otherwise. Python 3 standard library only.
"""

import re
import subprocess
import sys

# Call numbers: qnx-abi.md section 3 (kernel call enum / #define list, QNX 6.4, 7.0, 7.1, 8.0).
# name: (number, negates buffer lengths, QNX 8.0 only)
STUBS = {
    "msg_send": (11, True, False),  # __KER_MSG_SENDV
    "msg_sendnc": (12, True, False),  # __KER_MSG_SENDVNC
    "channel_create": (35, False, False),  # __KER_CHANNEL_CREATE
    "channel_destroy": (36, False, False),  # __KER_CHANNEL_DESTROY
    "connect_attach": (39, False, False),  # __KER_CONNECT_ATTACH
    "connect_detach": (40, False, False),  # __KER_CONNECT_DETACH
    "connect_server_info": (41, False, False),  # __KER_CONNECT_SERVER_INFO
    "connect_flags": (43, False, False),  # __KER_CONNECT_FLAGS
    "connect_dupfd": (44, False, True),  # __KER_CONNECT_DUPFD (8.0 only)
}
STUB_PREFIX = "__qnx_fdpass_ker_"
WRAPPER_PREFIX = "qnx_fdpass::sys::nto::raw::"

FUNC_RE = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN_RE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
RELOC_RE = re.compile(r"^\s*[0-9a-f]+:\s+(R_\S+)\s+(\S+)")


def parse(text, arch):
    """{function name: {"insns": [(addr, mnemonic, operands)], "relocs": [symbol]}} (first definition wins)."""
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
            cur["insns"].append((int(m.group(1), 16), m.group(2).strip().lower(), " ".join(ops.split()).lower()))
    return funcs


def imm(op):
    """The integer value of an immediate operand like `#0x27`, `#39` or `$0x27`."""
    op = op.strip().lstrip("#$")
    return int(op, 0)


def fmt(insns):
    return "; ".join(f"{m} {o}".strip() for _, m, o in insns)


def check_aarch64(name, insns, nr, negates):
    errs = []
    traps = [i for i, (_, m, _) in enumerate(insns) if m == "svc"]
    if len(traps) != 1:
        return [f"expected exactly one svc, found {len(traps)}: {fmt(insns)}"]
    t = traps[0]
    taddr, _, top = insns[t]
    if top != "#0x51":
        errs.append(f"trap is `svc {top}`, expected `svc #0x51`")
    # The call number: the last write to w8/x8 before the trap must be `mov w8, #nr`.
    loads = [(m, o) for _, m, o in insns[:t] if re.match(r"^[wx]8\b", o) and m not in ("str", "stp", "cmp", "tst")]
    if not loads:
        errs.append(f"no call number loaded into w8 before svc ({fmt(insns[:t])})")
    else:
        m, o = loads[-1]
        regs = o.split(",")
        if m != "mov" or regs[0].strip() != "w8":
            errs.append(f"call number register: last write before svc is `{m} {o}`, expected `mov w8, #{nr}`")
        else:
            got = imm(regs[1])
            if got != nr:
                errs.append(f"call number: w8 <- {got}, expected {nr}")
    others = [(m, o) for _, m, o in insns[:t] if m == "mov" and not o.startswith("w8,")]
    if others:
        errs.append(f"unexpected moves before the trap (number in the wrong register?): {others}")
    pre = [(m, o) for _, m, o in insns[:t] if m == "neg"]
    want_pre = [("neg", "x2, x2"), ("neg", "x4, x4")] if negates else []
    if pre != want_pre:
        errs.append(f"length negation before the trap: found {pre}, expected {want_pre}")
    # Error path: success `ret` at trap+4, kernel resumes at trap+8 with x0 = errno.
    after = {a: (m, o) for a, m, o in insns}
    if after.get(taddr + 4) != ("ret", ""):
        errs.append(f"no `ret` right after the svc (success path): {after.get(taddr + 4)}")
    if after.get(taddr + 8) != ("neg", "x0, x0") or after.get(taddr + 12) != ("ret", ""):
        errs.append(f"error path at svc+8 is not `neg x0, x0; ret`: {after.get(taddr + 8)}, {after.get(taddr + 12)}")
    expected = [(m, o) for m, o in want_pre] + [("mov", f"w8, #{nr}"), ("svc", "#0x51"), ("ret", ""), ("neg", "x0, x0"), ("ret", "")]
    got = [(m, re.sub(r"#0x[0-9a-f]+", lambda x: f"#{int(x.group(0)[1:], 16)}", o) if m == "mov" else o) for _, m, o in insns]
    if not errs and got != expected:
        errs.append(f"stub is not exactly the expected sequence: {fmt(insns)}")
    return errs


def check_x86_64(name, insns, nr, negates):
    errs = []
    traps = [i for i, (_, m, _) in enumerate(insns) if m == "syscall"]
    if len(traps) != 1:
        return [f"expected exactly one syscall, found {len(traps)}: {fmt(insns)}"]
    t = traps[0]
    taddr = insns[t][0]
    writes_eax = [(m, o) for _, m, o in insns[:t] if re.search(r",\s*%[re]?ax$", o) or (m.startswith(("xor", "pop")) and "%eax" in o)]
    if not writes_eax:
        errs.append(f"no call number loaded into eax before syscall ({fmt(insns[:t])})")
    else:
        m, o = writes_eax[-1]
        src, dst = [x.strip() for x in o.rsplit(",", 1)]
        if not m.startswith("mov") or not src.startswith("$"):
            errs.append(f"call number: last write to eax before syscall is `{m} {o}`, expected `mov ${nr}, %eax`")
        elif imm(src) != nr:
            errs.append(f"call number: eax <- {imm(src)}, expected {nr}")
    imm_movs = [(m, o) for _, m, o in insns[:t] if m.startswith("mov") and o.startswith("$") and not re.search(r"%[re]?ax$", o)]
    if imm_movs:
        errs.append(f"immediate loaded into another register before syscall (call number in the wrong register?): {imm_movs}")
    if ("movq", "%rcx, %r10") not in [(m, o) for _, m, o in insns[:t]]:
        errs.append("4th argument not copied rcx -> r10 before syscall")
    pre = [(m, o) for _, m, o in insns[:t] if m.startswith("neg")]
    want_pre = [("negq", "%rdx"), ("negq", "%r8")] if negates else []
    if pre != want_pre:
        errs.append(f"length negation before the trap: found {pre}, expected {want_pre}")
    at = {a: (m, o) for a, m, o in insns}
    end = taddr + 2  # syscall is 0f 05
    if at.get(end) != ("retq", ""):
        errs.append(f"no 1-byte `ret` right after the syscall (success path): {at.get(end)}")
    # Error path: for every resume offset k = 1..4 past the end of the syscall, only nops lead to neg %rax; ret.
    addrs = sorted(at)
    for k in range(1, 5):
        a = end + k
        if a not in at:
            errs.append(f"resume offset +{k} lands inside an instruction")
            continue
        i = addrs.index(a)
        while i < len(addrs) and at[addrs[i]][0] == "nop":
            i += 1
        if i + 1 >= len(addrs) or at[addrs[i]] != ("negq", "%rax") or at[addrs[i + 1]] != ("retq", ""):
            errs.append(f"resume offset +{k} does not slide into `neg %rax; ret`")
    expected = want_pre + [("movq", "%rcx, %r10"), ("movl", f"${nr}, %eax"), ("syscall", ""), ("retq", ""),
                           ("nop", ""), ("nop", ""), ("nop", ""), ("negq", "%rax"), ("retq", "")]
    got = [(m, re.sub(r"\$0x[0-9a-f]+", lambda x: f"${int(x.group(0)[1:], 16)}", o)) for _, m, o in insns]
    if not errs and got != expected:
        errs.append(f"stub is not exactly the expected sequence: {fmt(insns)}")
    return errs


def check_x86(name, insns, nr, negates):
    """32-bit x86 (i686-pc-nto-qnx700): QNX 6.4 libc.so.3's `_r` stubs (qnx-abi.md section 9.3), e.g.

    MsgSendnc_r: negl 0xc(%esp); negl 0x14(%esp); mov $0xc,%eax; <syspage test>; int $0x28 (or sysenter);
                 ret; neg %eax; ret
    ConnectAttach_r: mov $0x27,%eax; <syspage test>; int $0x28 (or sysenter); ret; neg %eax; ret

    The crate's stubs are the `int $0x28` branch alone (no syspage lookup, no sysenter): arguments stay on
    the stack, the kernel resumes 1 byte after the trap on error with eax = errno.
    """
    errs = []
    traps = [i for i, (_, m, _) in enumerate(insns) if m == "int"]
    if len(traps) != 1 or any(m in ("syscall", "sysenter") for _, m, _ in insns):
        return [f"expected exactly one `int $0x28` and no other trap: {fmt(insns)}"]
    t = traps[0]
    taddr, _, top = insns[t]
    if imm(top) != 0x28:
        errs.append(f"trap is `int {top}`, expected `int $0x28`")
    writes_eax = [(m, o) for _, m, o in insns[:t] if re.search(r"%(e?ax|al|ah)$", o)]
    if not writes_eax:
        errs.append(f"no call number loaded into eax before the trap ({fmt(insns[:t])})")
    else:
        m, o = writes_eax[-1]
        src = o.rsplit(",", 1)[0].strip()
        if not m.startswith("mov") or not src.startswith("$"):
            errs.append(f"call number: last write to eax before the trap is `{m} {o}`, expected `mov ${nr}, %eax`")
        elif imm(src) != nr:
            errs.append(f"call number: eax <- {imm(src)}, expected {nr}")
    pre = [(m, o) for _, m, o in insns[:t] if m.startswith("neg")]
    want_pre = [("negl", "0xc(%esp)"), ("negl", "0x14(%esp)")] if negates else []
    if pre != want_pre:
        errs.append(f"length negation before the trap: found {pre}, expected {want_pre}")
    at = {a: (m, o) for a, m, o in insns}
    end = taddr + 2  # int $0x28 is cd 28
    if at.get(end) != ("retl", ""):
        errs.append(f"no 1-byte `ret` right after the trap (success path): {at.get(end)}")
    if at.get(end + 1) != ("negl", "%eax") or at.get(end + 3) != ("retl", ""):
        errs.append(f"error path at trap+1 byte is not `neg %eax; ret`: {at.get(end + 1)}, {at.get(end + 3)}")
    expected = want_pre + [("movl", f"${nr}, %eax"), ("int", "$40"), ("retl", ""), ("negl", "%eax"), ("retl", "")]
    got = [(m, re.sub(r"\$0x[0-9a-f]+", lambda x: f"${int(x.group(0)[1:], 16)}", o)) for _, m, o in insns]
    if not errs and got != expected:
        errs.append(f"stub is not exactly the expected sequence: {fmt(insns)}")
    return errs


ARCHES = {
    # target prefix: (arch, check, trap mnemonic)
    "aarch64": ("aarch64", check_aarch64, "svc"),
    "x86_64": ("x86_64", check_x86_64, "syscall"),
    "i686": ("x86", check_x86, "int"),
}


def main():
    objdump, target, rlib = sys.argv[1:4]
    arch, check, trap = next(v for k, v in ARCHES.items() if target.startswith(k))
    is_v8 = "qnx800" in target or target.endswith("-qnx")
    out = subprocess.run([objdump, "-d", "-r", "--no-show-raw-insn", "--demangle", rlib],
                         capture_output=True, text=True)
    if not out.stdout.strip():
        print(f"FAIL {target}: llvm-objdump produced no disassembly: {out.stderr.strip()}")
        return 1
    funcs = parse(out.stdout, arch)
    failures = 0

    def report(what, errs):
        nonlocal failures
        if errs:
            failures += 1
            for e in errs:
                print(f"FAIL {target} {what}: {e}")
        else:
            print(f"ok   {target} {what}")

    for name, (nr, negates, v8_only) in STUBS.items():
        sym = STUB_PREFIX + name
        present = sym in funcs
        if v8_only and not is_v8:
            report(f"{sym} absent on QNX 7.x", [f"{sym} exists on a 7.x target"] if present else [])
            continue
        if not present:
            report(sym, ["stub not found in the library"])
            continue
        errs = check(name, funcs[sym]["insns"], nr, negates)
        report(f"{sym} (nr {nr}{', negated lengths' if negates else ''}, error path)", errs)
        wrapper = WRAPPER_PREFIX + name
        if wrapper not in funcs:
            report(wrapper, ["typed wrapper not found (built with inlining?)"])
            continue
        called = {r for r in funcs[wrapper]["relocs"] if r.startswith(STUB_PREFIX)}
        report(f"{wrapper} -> {sym}", [] if called == {sym} else [f"calls stubs {sorted(called)}, expected [{sym}]"])

    stray = [f"{f}+{a:#x}" for f, d in funcs.items() if not f.startswith(STUB_PREFIX)
             for a, m, _ in d["insns"] if m == trap]
    report(f"no `{trap}` outside the stubs", [f"trap instruction outside the stubs: {', '.join(stray)}"] if stray else [])
    print(f"{'FAIL' if failures else 'PASS'} {target}: {failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
