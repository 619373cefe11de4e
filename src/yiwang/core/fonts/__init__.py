"""The CJK font of the documents (notices, e-certificates).

``NotoSansSC-GB2312.otf`` is Noto Sans SC Regular (SIL Open Font License 1.1, see OFL.txt; from
the ``pylopdf-fonts-zh-cn`` package) cut with fontTools to the 7,445 characters of GB 2312 plus
ASCII and CJK/full-width punctuation, its charstrings without subroutines, so that a notice
does not parse and subset the full 8 MB font (tens of thousands of glyphs) each time. Text with a
character outside it
(a rare name character) is set in the full font from the package. Rebuild with
``python -m yiwang.core.fonts``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pylopdf_fonts_zh_cn

SUBSET = Path(__file__).with_name("NotoSansSC-GB2312.otf")


def full_font() -> Path:
    return pylopdf_fonts_zh_cn.sans_path()


def subset_codepoints() -> set[int]:
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFF60))
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([b1, b2]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


@functools.cache
def covered() -> frozenset[int]:
    """The code points the shipped subset has glyphs for (read from its cmap once)."""
    from fontTools.ttLib import TTFont

    if not SUBSET.exists():
        return frozenset()
    return frozenset(TTFont(str(SUBSET), lazy=True).getBestCmap())


def font_for(text: str) -> Path:
    need = {ord(c) for c in text if not c.isspace()}
    return SUBSET if need <= covered() else full_font()


def build(out: Path = SUBSET) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    # Charstrings without shared subroutines: subsetting then skips working out which subroutines
    # the used glyphs call and renumbering them, at the price of a slightly larger font file.
    options.desubroutinize = True
    font = TTFont(str(full_font()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset_codepoints())
    subsetter.subset(font)
    font.save(str(out))
    return out
