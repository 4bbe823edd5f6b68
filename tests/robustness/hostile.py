"""Hostile inputs, generated at test time (nothing big is committed): bombs, broken files, tricks.

Each maker returns bytes (or writes a file); sizes are parameters so a test can pick a bomb just
over a limit it lowered, or the full-size reproduction.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
PARAGRAPH = ("<w:p><w:r><w:t>The quick brown fox jumps over the lazy dog, again and again, "
             "until the library fills up.</w:t></w:r></w:p>")


def docx(body: str | None = None, paragraphs: list[str] | None = None) -> bytes:
    """A minimal valid .docx with these paragraphs (or this raw body XML)."""
    if body is None:
        body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs or ["Hello."])
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}'
           '</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", doc)
    return buf.getvalue()


def docx_bomb(unpacked_bytes: int) -> bytes:
    """A .docx whose word/document.xml holds `unpacked_bytes` of paragraphs (streamed, level 9:
    200 MB packs to well under 1 MB)."""
    buf = io.BytesIO()
    block = (PARAGRAPH * 1000).encode()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'.encode())
            written = 0
            while written < unpacked_bytes:
                f.write(block)
                written += len(block)
            f.write(b"</w:body></w:document>")
    return buf.getvalue()


def docx_many_members(count: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", f"<w:document {W}><w:body>{PARAGRAPH}</w:body>"
                                         "</w:document>")
        for i in range(count):
            zf.writestr(f"word/media/x{i}.bin", b"")
    return buf.getvalue()


def docx_deep(depth: int) -> bytes:
    """Paragraph text nested `depth` content controls deep."""
    inner = PARAGRAPH
    for _ in range(depth):
        inner = f"<w:sdt><w:sdtContent>{inner}</w:sdtContent></w:sdt>"
    return docx(body=inner)


def docx_entities() -> bytes:
    """Billion laughs in word/document.xml."""
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>'
           f'<w:document {W}><w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", doc)
    return buf.getvalue()


def docx_encrypted_member() -> bytes:
    """A zip whose document part carries the 'encrypted' flag."""
    data = bytearray(docx(paragraphs=["Secret text."]))
    at = 0
    while (at := data.find(b"PK\x03\x04", at)) >= 0:  # local headers: set bit 0 of the flags
        data[at + 6] |= 1
        at += 4
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:  # central directory entries
        data[at + 8] |= 1
        at += 4
    return bytes(data)


def html_page(paragraphs: int = 30, title: str = "A page about rivers") -> bytes:
    body = "".join(f"<p>Rivers carry water, sediment and stories from the hills to the sea; "
                   f"this is paragraph {i} of a long and sincere page.</p>"
                   for i in range(paragraphs))
    return (f"<!doctype html><html><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1>{body}</article></body></html>").encode()


def html_deep(depth: int) -> bytes:
    para = ("<p>Deep inside the nesting, a paragraph of ordinary text waits to be read by "
            "someone patient enough to find it among the boxes.</p>") * 5
    return (b"<!doctype html><html><head><title>Deep</title></head><body>" + b"<div>" * depth
            + para.encode() + b"</div>" * depth + b"</body></html>")


def html_wide(elements: int) -> bytes:
    """`elements` empty spans (an element bomb small in text)."""
    return (b"<!doctype html><html><head><title>Wide</title></head><body><p>" + b"<i></i>"
            * elements + b"</p></body></html>")


def gzip_bomb(unpacked_bytes: int) -> bytes:
    """gzip of `unpacked_bytes` of HTML-ish filler."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(b"<!doctype html><html><body><p>")
        block = b" " * (1 << 20)
        for _ in range(unpacked_bytes >> 20):
            gz.write(block)
    return out.getvalue()


def zip_bomb_plain(unpacked_bytes: int) -> bytes:
    """A plain (non-docx) zip of zeros."""
    buf = io.BytesIO()
    with (zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
          zf.open("zeros.bin", "w", force_zip64=True) as f):
        block = b"\0" * (1 << 20)
        for _ in range(unpacked_bytes >> 20):
            f.write(block)
    return buf.getvalue()


# --- PDFs ---------------------------------------------------------------------------------------

def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf(pages: int = 1, text: str = "A sincere sentence about rivers and the sea.",
        size: tuple[int, int] = (612, 792), lines: int = 12) -> bytes:
    """A text PDF of `pages` pages (each page's content stream is shared)."""
    ops = b"BT /F1 11 Tf 72 720 Td 14 TL " + b"".join(
        b"(%s) Tj T* " % text.encode("latin-1") for _ in range(lines)) + b"ET"
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               _stream(ops)]
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>" % size)
    return _pdf(objects)


def pdf_encrypted() -> bytes:
    """A PDF with a standard security handler whose user password is unknown."""
    base = pdf()
    enc = (b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "
           b"/O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               _stream(b"BT /F1 11 Tf 72 720 Td (hidden) Tj ET"),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>",
               enc]
    del base
    return _pdf(objects, b"/Encrypt 6 0 R /ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">] ")


def pdf_image_bomb(side: int = 60000) -> bytes:
    """A text PDF whose page also paints a `side` x `side` 1-bit image (flate, tiny on disk)."""
    row = b"\0" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ops = (b"BT /F1 11 Tf 72 720 Td 14 TL " + b"(Figure 1: an enormous picture of nothing.) Tj "
           + b"T* (Rivers carry water and sediment to the sea, every day of the year.) Tj" * 8
           + b" ET q 400 0 0 400 100 100 cm /Im1 Do Q")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               _stream(ops),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << "
               b"/F1 3 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 4 0 R >>",
               _stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                             b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode "
                       % (side, side))]
    return _pdf(objects)


def pdf_scanned() -> bytes:
    """A page with no text at all."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    return _pdf(objects)


def png(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height (a pixel bomb), with a tiny IDAT."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


def wav(seconds: float = 1.0, truncate: bool = False) -> bytes:
    rate = 16000
    frames = b"\0\0" * int(rate * seconds)
    header = (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
              + b"data" + struct.pack("<I", len(frames)))
    return header + (frames[: len(frames) // 10] if truncate else frames)
