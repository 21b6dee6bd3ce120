"""Bytes to text: byte-order marks, declared charsets, then detection.

Rules, in order (docs/reading.md):
1. A NUL byte anywhere, outside UTF-16/32 text with a BOM, means a binary file.
2. A byte-order mark names the encoding (UTF-8, UTF-16 or UTF-32).
3. A declared charset (HTML `<meta charset>` or `http-equiv`, an XML declaration)
   is honoured when the bytes decode with it, a few stray bytes replaced.
4. Otherwise UTF-8, also when only a few stray bytes are not UTF-8.
5. Detection by charset-normalizer only where none of that fits, or the
   declared charset fails badly (most non-ASCII bytes undecodable).
"""

from __future__ import annotations

import codecs
import re

# Looked for in the first bytes only, as browsers do (with room for long <head>s).
DECLARATION_WINDOW = 16_384
META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""")
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# What browsers decode these labels as (WHATWG Encoding Standard): supersets.
SUPERSETS = {
    "iso8859_1": "cp1252",  # codecs name ISO-8859-1 so; browsers read it as windows-1252
    "ascii": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "utf_16": "utf-8",  # a page served as UTF-16 without a BOM was re-encoded on the way
}
STRAY_SHARE = 0.1  # at most one undecodable sequence per ten good non-ASCII characters
FEW_STRAYS = 3  # ...or this many in all, for a declared charset
# Legacy encodings by how common they are on the web: detection often finds
# several that fit equally well, and then the commonest is the best bet.
COMMON = (
    "cp1252", "cp1250", "cp1251", "gb18030", "cp932", "cp949", "big5", "cp1256",
    "cp1253", "cp1254", "cp1255", "cp1257", "cp874", "koi8_r", "euc_jp", "iso8859_15",
)  # fmt: skip
CHAOS_TIE = 0.01


class DecodeError(ValueError):
    """Bytes that are not text (or no encoding fits); the message says which."""


def _normalised(label: bytes) -> str | None:
    """Python's codec for a declared label, widened as browsers do; None when unknown."""
    try:
        name = codecs.lookup(label.decode("ascii")).name.replace("-", "_")
    except (LookupError, UnicodeDecodeError):
        return None
    return SUPERSETS.get(name, name)


def declared(data: bytes) -> str | None:
    """The charset an HTML or XML file declares in its first bytes, if any."""
    head = data[:DECLARATION_WINDOW]
    match = XML_ENCODING.match(head) or META_CHARSET.search(head)
    return _normalised(match.group(1)) if match else None


def _decoded_well(data: bytes, encoding: str, few: int = 0) -> str | None:
    """The text, strays replaced, unless undecodable sequences are more than a few.

    "A few": `few` at most, or no more than one per ten non-ASCII characters
    that did decode.
    """
    text = data.decode(encoding, errors="replace")
    strays = text.count("\ufffd") - data.count("\ufffd".encode(encoding, errors="ignore") or b"\0")
    if strays <= 0:
        return text
    good = len(text) - len(text.encode("ascii", errors="ignore")) - text.count("\ufffd")
    return text if strays <= max(few, STRAY_SHARE * good) else None


def _utf8_in_disguise(data: bytes, encoding: str) -> bool:
    """A single-byte declaration on bytes that are valid, non-ASCII UTF-8: the declaration is stale."""
    if encoding not in ("cp1252", "iso8859_15", "cp1250", "iso8859_2") or data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, markup: bool = False) -> str:
    """Decode a file's bytes by the rules above; `markup` looks for HTML/XML declarations.

    Raises DecodeError for binary data or when no encoding fits. Linear in the
    size of the data.
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            if "\0" in text:
                raise DecodeError("binary file (NUL bytes)")
            return text
    if b"\0" in data:
        raise DecodeError("binary file (NUL bytes)")
    charset = declared(data) if markup else None
    if charset is not None and not _utf8_in_disguise(data, charset):
        found = _decoded_well(data, charset, FEW_STRAYS)
        if found is not None:
            return found
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    found = _decoded_well(data, "utf-8")
    if found is not None:
        return found
    return detect(data)


def detect(data: bytes) -> str:
    """charset-normalizer's detection; among equally good fits, the commonest encoding."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise DecodeError("undecodable: no text encoding fits")
    least = min(match.chaos for match in matches)
    fits = {
        name.replace("-", "_")
        for match in matches
        if match.chaos <= least + CHAOS_TIE
        for name in (match.encoding, *match.could_be_from_charset)
    }
    encoding = next((name for name in COMMON if name in fits), None)
    if encoding is None:
        return str(min(matches, key=lambda match: match.chaos))
    return data.decode(encoding, errors="replace")
