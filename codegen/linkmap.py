"""The input sections a GNU ld link map says the linker kept (``-Wl,-Map=FILE``, with ``--gc-sections``).

One reader for the footprint figures of ``codegen --target`` (:mod:`kwsnum.codegen.target`) and
``bench/c_footprint.py``.
"""
import os
import re


def kept_sections(map_path):
    """Yield ``(section, size, object file basename)`` for every input section of the memory map (after the
    line "Linker script and memory map"). A long section name stands on its own line and its address, size
    and file on the next."""
    kept, name = False, None
    with open(map_path) as fh:
        for line in fh:
            if line.startswith("Linker script and memory map"):
                kept = True
            if not kept:
                continue
            m = re.match(r"^ (\.\S+)\s*$", line)
            if m:
                name = m.group(1)
                continue
            m = re.match(r"^ (\.\S+)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$", line)
            if m:
                sec = m.group(1) or name
                if sec:
                    yield sec, int(m.group(2), 16), os.path.basename(m.group(3))
            name = None
