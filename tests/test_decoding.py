"""Bytes to text: byte-order marks, declared charsets, nearly-UTF-8, detection, binary refused."""

from __future__ import annotations

import codecs

import pytest

from stancetopic.decoding import DecodeError, declared, decode

GERMAN = "Zürich bestätigte die Gespräche über den Vertrag."
RUSSIAN = "Министерство подтвердило в понедельник, что переговоры продолжатся."


def page(charset: str, text: str) -> str:
    return f'<html><head><meta charset="{charset}"></head><body><p>{text}</p></body></html>'


def test_a_bom_names_the_encoding_and_is_not_part_of_the_text():
    assert decode(codecs.BOM_UTF8 + GERMAN.encode()) == GERMAN
    assert decode(codecs.BOM_UTF16_LE + GERMAN.encode("utf-16-le")) == GERMAN
    assert decode(codecs.BOM_UTF32_BE + GERMAN.encode("utf-32-be")) == GERMAN


def test_a_bom_wins_over_a_declared_charset():
    source = page("windows-1251", GERMAN)
    assert decode(codecs.BOM_UTF8 + source.encode(), markup=True) == source


@pytest.mark.parametrize("charset, codec", [("windows-1251", "cp1251"), ("koi8-r", "koi8_r")])
def test_a_declared_charset_is_honoured_in_markup(charset, codec):
    source = page(charset, RUSSIAN)
    assert decode(source.encode(codec), markup=True) == source


@pytest.mark.parametrize(
    "charset, codec, text, stray",
    [
        ("windows-1251", "cp1251", RUSSIAN, b"\x98"),  # 0x98 is undefined in windows-1251
        ("windows-1252", "cp1252", "Caf\u00e9 au lait", b"\x81"),  # a stray among few non-ASCII letters
    ],
)
def test_a_declared_charset_is_honoured_with_a_stray_byte_replaced(charset, codec, text, stray):
    source = page(charset, text) + "<p>X</p>"
    data = source.encode(codec).replace(b"X", stray)
    assert decode(data, markup=True) == source.replace("X", "\ufffd")


def test_declarations_are_read_from_meta_http_equiv_and_xml_and_widened_as_browsers_do():
    assert declared(b'<?xml version="1.0" encoding="Shift_JIS"?><a/>') == "cp932"
    assert declared(b'<meta http-equiv="Content-Type" content="text/html; charset=GBK">') == "gb18030"
    assert declared(b'<meta charset="windows-1251">') == "cp1251"
    assert declared(b'<meta charset="klingon">') is None
    assert declared(b"<p>no declaration</p>") is None


def test_a_stale_single_byte_declaration_on_utf8_bytes_is_ignored():
    source = page("windows-1252", GERMAN)
    assert decode(source.encode(), markup=True) == source


def test_iso_8859_1_is_read_as_windows_1252_as_browsers_do():
    source = page("iso-8859-1", "\u201cWe will appeal,\u201d the mayor said, at a cost of \u20ac5m.")
    assert declared(source.encode("cp1252")) == "cp1252"
    assert decode(source.encode("cp1252"), markup=True) == source


def test_nearly_utf8_text_is_utf8_with_the_stray_byte_replaced():
    good = "Zürich bestätigte die Gespräche über den Vertrag. " * 5
    assert decode(good.encode() + b"caf\xe9.") == good + "caf\ufffd."


def test_single_byte_text_is_detected():
    text = "Le ministère a confirmé la réforme des retraites à Genève, a déclaré le porte-parole. " * 4
    assert decode(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    "data",
    [
        GERMAN.encode() + b"\0" + GERMAN.encode(),
        b"\0" + GERMAN.encode(),
        codecs.BOM_UTF16_LE + "a\0b".encode("utf-16-le"),  # a NUL character, not just a zero byte
    ],
)
def test_a_nul_means_binary(data):
    with pytest.raises(DecodeError, match="binary"):
        decode(data)
