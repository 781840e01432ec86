#!/usr/bin/env python3
"""elf-shrink.py - a small ELF seed for the fuzzers from a big ELF file.

    elf-shrink.py IN OUT

Keeps what gilscope's ELF code reads (elfsym.c: headers, program headers,
section headers, the dynamic symbol table and its strings, notes such as the
build-id, the section name table) and drops the bytes of every other section:
those become SHT_NOBITS, and PT_LOAD segments keep their addresses with no
file bytes (they read as zeros). A 30 MB libpython becomes ~100 KB that still
resolves _PyRuntime, Py_Version and PyCode_Type. ELF64 little-endian only.
"""
import struct
import sys

SHT_SYMTAB, SHT_STRTAB, SHT_NOTE, SHT_NOBITS, SHT_DYNSYM = 2, 3, 7, 8, 11
PT_LOAD, PT_NOTE = 1, 4

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
PHDR = struct.Struct("<IIQQQQQQ")


def shrink(data: bytes) -> bytes:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit("not an ELF64 little-endian file")
    (ident, etype, machine, version, entry, phoff, shoff, flags, ehsize, phentsize,
     phnum, shentsize, shnum, shstrndx) = EHDR.unpack_from(data, 0)
    shdrs = [list(SHDR.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    phdrs = [list(PHDR.unpack_from(data, phoff + i * phentsize)) for i in range(phnum)]

    keep = set()
    for i, sh in enumerate(shdrs):
        if sh[1] in (SHT_DYNSYM, SHT_NOTE):
            keep.add(i)
            if sh[1] == SHT_DYNSYM:
                keep.add(sh[6])  # sh_link: its string table
    keep.add(shstrndx)

    out = bytearray(EHDR.size + PHDR.size * phnum)
    moved = {}  # old section offset -> new
    for i, sh in enumerate(shdrs):
        if i == 0:
            continue
        if i in keep and sh[1] != SHT_NOBITS:
            align = max(1, min(sh[8], 8))
            while len(out) % align:
                out.append(0)
            moved[sh[4]] = len(out)
            out += data[sh[4]:sh[4] + sh[5]]
            sh[4] = moved[sh[4]]
        else:
            sh[1] = SHT_NOBITS
            sh[4] = 0
    for ph in phdrs:
        if ph[0] == PT_NOTE and ph[2] in moved:
            ph[2] = moved[ph[2]]
        elif ph[0] == PT_LOAD:
            ph[2] &= 0xfff  # same offset in its page, no file bytes
            ph[5] = 0
        else:
            ph[2] = 0
            ph[5] = 0
    while len(out) % 8:
        out.append(0)
    new_shoff = len(out)
    for sh in shdrs:
        out += SHDR.pack(*sh)
    EHDR.pack_into(out, 0, ident, etype, machine, version, entry, EHDR.size, new_shoff,
                   flags, EHDR.size, PHDR.size, phnum, SHDR.size, shnum, shstrndx)
    for i, ph in enumerate(phdrs):
        PHDR.pack_into(out, EHDR.size + i * PHDR.size, *ph)
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.strip().split("\n\n")[1])
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    with open(sys.argv[2], "wb") as f:
        f.write(shrink(data))


if __name__ == "__main__":
    main()
