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
AVX2 choices made just before it stay. The script refuses (and writes nothing) unless it finds
between one and eight such sites; ONNX Runtime 1.31.1's linux-x64 library has four (copies of the
set-up inlined into its callers). Only the copy changes.
"""
import re
import shutil
import sys
from pathlib import Path

LIBRARY = Path("runtimes/linux-x64/native/libonnxruntime.so")
# test r/m32, imm32 (F7 /0 with a register operand, optional REX prefix) with imm32 = 1 << 16,
# then je rel8.
AVX512F_TEST = re.compile(rb"(?:[\x40-\x4f])?\xf7[\xc0-\xc7]\x00\x00\x01\x00\x74")
XCR0_TEST = b"\xa8\xe0"  # test al, 0xe0
JE_SHORT, JMP_SHORT = 0x74, 0xEB


def patch(data: bytearray) -> list[int]:
    sites = []
    for match in AVX512F_TEST.finditer(bytes(data)):
        je = match.end() - 1
        if XCR0_TEST in data[je + 2 : je + 16]:
            sites.append(je)
    if not 1 <= len(sites) <= 8:
        raise SystemExit(f"found {len(sites)} places where ONNX Runtime chooses its AVX-512 kernels, "
                         "expected 1 to 8: this build differs from 1.31.1; nothing written")
    for je in sites:
        data[je] = JMP_SHORT
    return sites


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    library = source / LIBRARY
    if not library.is_file():
        raise SystemExit(f"{library} not found: build OrtBench first (dotnet build -c Release bench/OrtBench)")
    data = bytearray(library.read_bytes())
    sites = patch(data)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    patched = target / LIBRARY
    temporary = patched.with_suffix(".so.tmp")
    temporary.write_bytes(data)
    temporary.chmod(library.stat().st_mode)
    temporary.replace(patched)
    print(f"{patched}: AVX-512 set-up skipped at {len(sites)} sites ({', '.join(hex(s) for s in sites)})")


if __name__ == "__main__":
    main()
