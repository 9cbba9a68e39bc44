#!/usr/bin/env python3
"""Copies a built OrtBench and makes its ONNX Runtime run the kernels an AVX2 machine gets.

    python3 tools/reference/ort_without_avx512.py SOURCE_DIR TARGET_DIR

SOURCE_DIR is OrtBench's build output (bench/OrtBench/bin/Release/net10.0); TARGET_DIR receives a
copy whose runtimes/linux-x64/native/libonnxruntime.so has MLAS (ONNX Runtime's CPU kernel library)
take its AVX2/FMA3 kernels on an AVX-512 machine. `DOTNET_EnableAVX512=0` does the same for our
engine, so side_by_side.sh's AVX2 mode (SIDE_BY_SIDE_AVX2=1) compares both engines as an AVX2
machine would run them, on one machine: an emulation, not a measurement of an AVX2 machine (the
cores, caches and clocks stay those of the AVX-512 machine).

ONNX Runtime reads CPUID itself and has no setting to cap the instruction set, so the copy is
patched. MLAS's platform set-up takes its AVX-512 kernels where CPUID leaf 7 has AVX512F (EBX bit
16) and XCR0 shows the ZMM state saved (bits 5-7). In the compiled library the first of these is
`test reg, 0x10000` then a short `je` over the AVX-512 set-up, and the XCR0 test (`test al, 0xe0`)
follows within a few bytes. Each such `je` becomes `jmp`, so the set-up is always skipped and the
AVX2 choices made just before it stay. ONNX Runtime 1.31.1's linux-x64 library has four such sites
(copies of the set-up inlined into its callers); the script refuses, writing nothing, unless it
finds exactly those four (another build needs this script looked at again), and says so when the
library it is given is already patched. TARGET_DIR must not be SOURCE_DIR, lie inside it or hold
it, and may exist only as an earlier output of this script (it is replaced). Only the copy changes.
"""
import re
import shutil
import sys
from pathlib import Path

LIBRARY = Path("runtimes/linux-x64/native/libonnxruntime.so")
MARKER = ".ort_without_avx512"  # in every TARGET_DIR this script writes
EXPECTED_SITES = 4  # ONNX Runtime 1.31.1, linux-x64
# test r/m32, imm32 (F7 /0 with a register operand, optional REX prefix) with imm32 = 1 << 16;
# a short je (or, once patched, jmp) follows.
AVX512F_TEST = rb"(?:[\x40-\x4f])?\xf7[\xc0-\xc7]\x00\x00\x01\x00"
XCR0_TEST = b"\xa8\xe0"  # test al, 0xe0
JE_SHORT, JMP_SHORT = 0x74, 0xEB


def find_sites(data: bytes, branch: int) -> list[int]:
    pattern = re.compile(AVX512F_TEST + re.escape(bytes([branch])))
    sites = []
    for match in pattern.finditer(data):
        jump = match.end() - 1
        if XCR0_TEST in data[jump + 2 : jump + 16]:
            sites.append(jump)
    return sites


def patch(data: bytearray) -> list[int]:
    sites = find_sites(bytes(data), JE_SHORT)
    if not sites and len(find_sites(bytes(data), JMP_SHORT)) == EXPECTED_SITES:
        raise SystemExit("this library is already patched (give the build output, not an earlier copy); nothing written")
    if len(sites) != EXPECTED_SITES:
        raise SystemExit(f"found {len(sites)} places where ONNX Runtime chooses its AVX-512 kernels, expected "
                         f"{EXPECTED_SITES} (1.31.1): this build differs, so this script needs looking at again; nothing written")
    for je in sites:
        data[je] = JMP_SHORT
    return sites


def check_target(source: Path, target: Path) -> None:
    s, t = source.resolve(), target.resolve()
    if t == s or s in t.parents or t in s.parents:
        raise SystemExit(f"{target} is, holds or lies inside {source}: give a separate folder; nothing written")
    if t.exists() and not (t / MARKER).is_file():
        raise SystemExit(f"{target} exists and is not an earlier output of this script (no {MARKER} in it): "
                         "give a new folder or remove it; nothing written")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    library = source / LIBRARY
    if not library.is_file():
        raise SystemExit(f"{library} not found: build OrtBench first (dotnet build -c Release bench/OrtBench)")
    check_target(source, target)
    data = bytearray(library.read_bytes())
    sites = patch(data)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    (target / MARKER).write_text("written by tools/reference/ort_without_avx512.py; replaced on its next run\n")
    patched = target / LIBRARY
    temporary = patched.with_suffix(".so.tmp")
    temporary.write_bytes(data)
    temporary.chmod(library.stat().st_mode)
    temporary.replace(patched)
    print(f"{patched}: AVX-512 set-up skipped at {len(sites)} sites ({', '.join(hex(s) for s in sites)})")


if __name__ == "__main__":
    main()
