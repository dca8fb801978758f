"""Type detection and names, without I/O: the allow-list decides from content."""

from __future__ import annotations

import io
import zipfile

import pytest

from careline.attachments import sniff, structure
from careline.bench import hostile
from careline.kit import limits
from careline.kit.errors import AppError, InvalidInput
from tests.support import files


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (files.photo_with_gps(64, 48), sniff.JPEG),
        (files.png_bomb(1000)[:64], sniff.PNG),
        (b"GIF89a\x01\x00\x01\x00", sniff.GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", sniff.WEBP),
        (files.pdf_page()[:64], sniff.PDF),
        (b"PK\x03\x04\x14\x00", sniff.ZIP),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", sniff.MP3),
        (b"\xff\xfb\x90\x64\x00", sniff.MP3),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", sniff.AAC),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", sniff.WAV),
        (b"fLaC\x00\x00\x00\x22", sniff.FLAC),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1eOpusHead", sniff.OGG_AUDIO),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", sniff.M4A),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", sniff.MP4),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", sniff.MOV),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm", sniff.WEBM),
        ("Plain words, café, 😊\n".encode(), sniff.TEXT),
    ],
)
def test_the_content_decides_the_type(head: bytes, expected: object) -> None:
    assert sniff.sniff(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        files.windows_exe(),
        b"\x7fELF\x02\x01\x01",
        b"#!/usr/bin/env python\nprint(1)\n",
        files.HTML_PAGE,
        b"\xef\xbb\xbf  \n<html><body>hi</body></html>",
        files.SVG_WITH_SCRIPT,
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"{\\rtf1\\ansi hello}",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
        b"Rar!\x1a\x07\x00",
        b"\x1f\x8b\x08\x00",
        b"\x00\x01\x02\x03binary",
        b"%!PS-Adobe-3.0\n",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska",
    ],
)
def test_what_is_not_on_the_allow_list_is_refused(head: bytes) -> None:
    with pytest.raises(AppError) as refused:
        sniff.sniff(head)
    assert refused.value.status == 415


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput):
        sniff.sniff(b"")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\Desktop\\scan 1.pdf", "scan 1.pdf"),
        ("../../../etc/passwd", "passwd"),
        ("photo\u202egnp.exe", "photo_gnp.exe"),
        ("  .hidden  ", "hidden"),
        ('a<b>c:"d|e?f*.txt', "a_b_c__d_e_f_.txt"),
        ("con.txt", "_con.txt"),
        ("...", "file"),
        ("x" * 300 + ".pdf", "x" * (limits.FILE_NAME_MAX_CHARS - 4) + ".pdf"),
        ("Cafe\u0301.txt", "Café.txt"),
    ],
)
def test_names_are_cleaned(raw: str, expected: str) -> None:
    assert sniff.clean_name(raw) == expected


@pytest.mark.parametrize(
    ("name", "found", "expected"),
    [
        ("scan.pdf", sniff.PDF, ("scan.pdf", sniff.PDF)),
        ("scan", sniff.PDF, ("scan.pdf", sniff.PDF)),
        ("scan.final", sniff.PDF, ("scan.final.pdf", sniff.PDF)),
        ("photo.jpg", sniff.PNG, ("photo.png", sniff.PNG)),
        ("voice note.m4a", sniff.MP4, ("voice note.m4a", sniff.M4A)),
        ("voice.weba", sniff.WEBM, ("voice.weba", sniff.WEBM_AUDIO)),
        ("data.csv", sniff.TEXT, ("data.csv", sniff.TEXT)),
        ("clip.mp3", sniff.WAV, ("clip.wav", sniff.WAV)),
    ],
)
def test_the_name_follows_the_content(name: str, found: object, expected: object) -> None:
    assert sniff.reconcile(name, found) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "found"),
    [("x-ray.png", sniff.PDF), ("notes.pdf", sniff.TEXT), ("song.mp3", sniff.DOCX)],
)
def test_a_name_claiming_other_content_is_refused(name: str, found: sniff.FileType) -> None:
    with pytest.raises(sniff.TypeMismatch):
        sniff.reconcile(name, found)


def test_office_documents_are_told_apart_and_checked() -> None:
    assert structure.check_archive(io.BytesIO(files.docx()), 1000) == sniff.DOCX
    odt = files.plain_zip(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"}
    )
    assert structure.check_archive(io.BytesIO(odt), len(odt)) == sniff.ODT
    with pytest.raises(sniff.Unsafe, match="macros"):
        structure.check_archive(
            io.BytesIO(
                files.plain_zip(
                    {
                        "mimetype": b"application/vnd.oasis.opendocument.text",
                        "Basic/Standard/Module1.xml": b"x",
                    }
                )
            ),
            100,
        )
    ratio_bomb = files.zip_bomb_docx(unpacked_mib=40)
    with pytest.raises(sniff.Unsafe, match="times its size") as bomb:
        structure.check_archive(io.BytesIO(ratio_bomb), len(ratio_bomb))
    assert bomb.value.code == "archive_bomb"
    with pytest.raises(sniff.Corrupt):
        structure.check_archive(io.BytesIO(files.docx()[:-30]), 1000)


def test_a_zip_whose_directory_lies_is_caught_while_unpacking() -> None:
    document = bytearray(files.docx({"word/media/big.bin": b"\0" * 100_000}))
    # Shrink the size the central directory claims for the big part: unpacking reads
    # only that much, and the CRC no longer matches.
    entry = document.rfind(b"PK\x01\x02", 0, document.find(b"PK\x05\x06"))
    document[entry + 24 : entry + 28] = (100).to_bytes(4, "little")
    with pytest.raises(sniff.Corrupt):
        structure.check_archive(io.BytesIO(bytes(document)), len(document))


def test_image_headers_are_checked_without_decoding() -> None:
    assert structure.check_image(io.BytesIO(files.photo_with_gps(64, 48)), sniff.JPEG) == (64, 48)
    with pytest.raises(sniff.Unsafe) as bomb:
        structure.check_image(io.BytesIO(files.png_bomb()), sniff.PNG)
    assert bomb.value.code == "image_too_large"
    with pytest.raises(sniff.Corrupt):
        structure.check_image(io.BytesIO(files.photo_with_gps(64, 48)), sniff.PNG)


def test_a_zip_directory_is_counted_before_zipfile_reads_it() -> None:
    """The end record's count can lie (zipfile ignores it): the entries are counted."""
    over = limits.ARCHIVE_MAX_MEMBERS + 1
    for declared in (2, over):
        bomb = hostile.zip_directory_bomb(over, declared=declared)
        with pytest.raises(sniff.Unsafe, match="5000 parts") as refused:
            structure.check_members(io.BytesIO(bomb))
        assert refused.value.code == "archive_bomb"
    structure.check_members(io.BytesIO(hostile.zip_directory_bomb(limits.ARCHIVE_MAX_MEMBERS)))
    many = files.plain_zip({f"word/media/{i}.bin": b"" for i in range(over)})
    with pytest.raises(sniff.Unsafe, match="5000 parts"):
        structure.check_members(io.BytesIO(many))
    with pytest.raises(sniff.Corrupt):
        structure.check_members(io.BytesIO(files.docx()[:-30]))


def test_a_zip64_document_is_counted_from_its_zip64_record() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b"<w:document/>")
    structure.check_members(io.BytesIO(out.getvalue()))


def test_png_chunks_before_the_pixels_are_capped() -> None:
    ok = hostile.png_chunk_bomb(limits.PNG_MAX_CHUNKS_BEFORE_IMAGE - 1)  # plus IHDR
    assert structure.check_image(io.BytesIO(ok), sniff.PNG) == (1, 1)
    for bomb in (
        hostile.png_chunk_bomb(limits.PNG_MAX_CHUNKS_BEFORE_IMAGE),
        files.png_with_metadata(limits.PNG_MAX_HEADER_BYTES),
    ):
        with pytest.raises(sniff.Unsafe) as refused:
            structure.check_png_chunks(io.BytesIO(bomb))
        assert refused.value.code == "image_bomb"
    with pytest.raises(sniff.Corrupt):
        structure.check_png_chunks(io.BytesIO(hostile.png_chunk_bomb(10)[:100]))
