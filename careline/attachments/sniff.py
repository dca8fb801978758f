"""What a file is, decided from its first bytes against an allow-list; and what it may be
called.

No I/O here, and nothing that walks a file's structure: callers hand in the first
SNIFF_BYTES or a name, and the server process runs this on every upload. What needs
the whole file (a zip's directory, an image's header chunks) is in structure.py, which
only the checking child runs. Refusals are AppErrors with stable codes (docs/files.md),
so the uploader learns exactly why.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from careline.attachments.records import FileType, Kind
from careline.kit import limits
from careline.kit.errors import AppError, InvalidInput

SNIFF_BYTES = 4096  # every signature below sits in the first bytes


class Refused(AppError):
    """Content careline does not accept, whatever the file is called."""

    status, code, title = 415, "file_type_refused", "File type not accepted"


class TypeMismatch(AppError):
    status, code, title = 415, "type_mismatch", "File name does not match its content"


class Unsafe(AppError):
    """Accepted types carrying something that makes them unsafe to pass on."""

    status, code, title = 422, "file_unsafe", "File refused"


class Corrupt(AppError):
    status, code, title = 422, "file_corrupt", "File damaged"


JPEG = FileType("image/jpeg", Kind.IMAGE, "jpg")
PNG = FileType("image/png", Kind.IMAGE, "png")
GIF = FileType("image/gif", Kind.IMAGE, "gif")
WEBP = FileType("image/webp", Kind.IMAGE, "webp")
PDF = FileType("application/pdf", Kind.PDF, "pdf")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.DOCUMENT,
    "docx",
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Kind.DOCUMENT, "xlsx"
)
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    Kind.DOCUMENT,
    "pptx",
)
ODT = FileType("application/vnd.oasis.opendocument.text", Kind.DOCUMENT, "odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", Kind.DOCUMENT, "ods")
ODP = FileType("application/vnd.oasis.opendocument.presentation", Kind.DOCUMENT, "odp")
TEXT = FileType("text/plain", Kind.TEXT, "txt")
MP3 = FileType("audio/mpeg", Kind.AUDIO, "mp3")
AAC = FileType("audio/aac", Kind.AUDIO, "aac")
WAV = FileType("audio/wav", Kind.AUDIO, "wav")
FLAC = FileType("audio/flac", Kind.AUDIO, "flac")
OGG_AUDIO = FileType("audio/ogg", Kind.AUDIO, "ogg")
M4A = FileType("audio/mp4", Kind.AUDIO, "m4a")
WEBM_AUDIO = FileType("audio/webm", Kind.AUDIO, "weba")
MP4 = FileType("video/mp4", Kind.VIDEO, "mp4")
MOV = FileType("video/quicktime", Kind.VIDEO, "mov")
WEBM = FileType("video/webm", Kind.VIDEO, "webm")
OGG_VIDEO = FileType("video/ogg", Kind.VIDEO, "ogv")
ZIP = FileType("application/zip", Kind.DOCUMENT, "zip")  # inspected, never accepted as such

ALLOWED: tuple[FileType, ...] = (
    JPEG, PNG, GIF, WEBP, PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, TEXT,
    MP3, AAC, WAV, FLAC, OGG_AUDIO, M4A, WEBM_AUDIO, MP4, MOV, WEBM, OGG_VIDEO,
)  # fmt: skip

# Names a file of each type may carry. A name claiming another kind of content is refused.
EXTENSIONS: dict[str, FileType] = {
    "jpg": JPEG, "jpeg": JPEG, "jpe": JPEG, "jfif": JPEG, "png": PNG, "gif": GIF,
    "webp": WEBP, "pdf": PDF, "docx": DOCX, "xlsx": XLSX, "pptx": PPTX, "odt": ODT,
    "ods": ODS, "odp": ODP, "txt": TEXT, "text": TEXT, "csv": TEXT, "tsv": TEXT, "md": TEXT,
    "log": TEXT, "json": TEXT, "mp3": MP3, "aac": AAC, "wav": WAV, "flac": FLAC,
    "ogg": OGG_AUDIO, "oga": OGG_AUDIO, "opus": OGG_AUDIO, "m4a": M4A, "weba": WEBM_AUDIO,
    "mp4": MP4, "m4v": MP4, "mov": MOV, "webm": WEBM, "ogv": OGG_VIDEO,
}  # fmt: skip

# Formats sharing a container: the name decides between them (a voice note in .m4a).
_CONTAINERS: tuple[frozenset[FileType], ...] = (
    frozenset({MP4, M4A, MOV}),
    frozenset({WEBM, WEBM_AUDIO}),
    frozenset({OGG_AUDIO, OGG_VIDEO}),
)

# Names that run code or render as a web page somewhere, whatever is inside.
BLOCKED_EXTENSIONS = frozenset(
    {
        "exe", "dll", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "ps1", "psm1",
        "vb", "vbs", "vbe", "js", "jse", "mjs", "cjs", "wsf", "wsh", "hta", "jar", "class",
        "apk", "app", "dmg", "iso", "img", "lnk", "url", "reg", "inf", "sh", "bash", "zsh",
        "csh", "ksh", "py", "pyc", "pl", "rb", "php", "asp", "aspx", "jsp", "cgi", "html",
        "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt", "swf",
        "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "sldm", "doc", "dot",
        "xls", "xlt", "ppt", "pps", "rtf",
    }
)  # fmt: skip

_EXECUTABLE = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O fat binary, Java class
    b"#!",  # a script for an interpreter
    b"dex\n",
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml",
           b"<iframe", b"<object", b"<embed", b"<meta", b"<link", b"<style", b"<a ", b"<img",
           b"<div", b"<form", b"<!--")  # fmt: skip


def _ftyp(head: bytes) -> FileType | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return M4A
    if brand == b"qt  ":
        return MOV
    if brand[:3] in (b"iso", b"mp4", b"avc", b"MSN", b"das", b"3gp", b"3g2", b"M4V", b"f4v"):
        return MP4
    return None


_SIGNATURES: tuple[tuple[bytes, FileType], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
    (b"PK\x03\x04", ZIP),
    (b"ID3", MP3),
    (b"fLaC", FLAC),
)
_RIFF = {b"WEBP": WEBP, b"WAVE": WAV}


def _mpeg_audio(head: bytes) -> FileType | None:
    """A bare MPEG audio frame: layer III is MP3, "layer 0" is AAC in ADTS framing."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    return {0: AAC, 1: MP3}.get((head[1] >> 1) & 0x3)


def _container(head: bytes) -> FileType | None:
    if head.startswith(b"RIFF"):
        return _RIFF.get(head[8:12])
    if head.startswith(b"OggS"):
        return OGG_VIDEO if b"\x80theora" in head[:512] else OGG_AUDIO
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: only its WebM flavour
        return WEBM if b"webm" in head[:64] else None
    return _ftyp(head)


def _refuse_known_dangers(head: bytes) -> None:
    if head.startswith(_EXECUTABLE):
        raise Refused("programs and scripts can't be attached")
    if head.startswith(_OLE2):
        raise Refused(
            "older Office files (.doc, .xls, .ppt) can carry macros and aren't accepted: "
            "save the document as .docx, .xlsx or .pptx (or PDF) and attach that"
        )
    if head.startswith(b"%!PS"):
        raise Refused("PostScript files can run code in their viewers: attach a PDF")
    if head.startswith(b"{\\rtf"):
        raise Refused("RTF documents can hide embedded programs: save as .docx or PDF")
    if head.startswith((b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh")):
        raise Refused("archives (zip, rar, 7z, gzip) can't be attached: attach the files")


def _refuse_markup(head: bytes) -> None:
    """Text that a browser would render as a page (or an SVG that runs script) is
    refused, whatever its name. Binary formats never get here."""
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(b"<") or any(tag in text[:1024] for tag in _MARKUP):
        if b"<svg" in text:
            raise Refused("SVG images can carry scripts and aren't accepted: use PNG or JPEG")
        raise Refused("web pages and other markup (HTML, XML, SVG) can't be attached")


def sniff(head: bytes) -> FileType:
    """The type the first bytes show, or Refused. TEXT and ZIP are provisional: the
    whole text must decode (TextCheck), and a zip must be an office document
    (structure.check_archive, in the checking child)."""
    if not head:
        raise InvalidInput("the file is empty", code="file_empty")
    _refuse_known_dangers(head)
    for prefix, file_type in _SIGNATURES:
        if head.startswith(prefix):
            return file_type
    found = _container(head) or _mpeg_audio(head)
    if found is not None:
        return found
    _refuse_markup(head)
    if _looks_like_text(head):
        return TEXT
    raise Refused(
        "this kind of file isn't accepted: attach images, PDFs, office documents, "
        "plain text, audio or video"
    )


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


class TextCheck:
    """Plain text must be UTF-8 throughout with no NUL bytes; fed as the upload streams."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, data: bytes) -> None:
        if b"\x00" in data:
            raise Refused("binary content can't be attached as text")
        try:
            self._decoder.decode(data, final=False)
        except UnicodeDecodeError:
            raise Refused("text files must be UTF-8 (save the file as UTF-8)") from None

    def finish(self) -> None:
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise Refused("text files must be UTF-8 (save the file as UTF-8)") from None


# --- names ----------------------------------------------------------------------------

# Path separators, characters Windows forbids, controls, and the bidi/invisible
# formatting characters used to disguise names ("photo\u202egnp.exe").
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def clean_name(raw: str) -> str:
    """A name safe to store, show and offer for download: no path, no control or
    disguising characters, no leading dots, at most FILE_NAME_MAX_CHARS characters."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = _BAD_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if not name or set(name) == {"_"}:
        name = "file"
    if _RESERVED.match(name):
        name = f"_{name}"
    if len(name) > limits.FILE_NAME_MAX_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: limits.FILE_NAME_MAX_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[: limits.FILE_NAME_MAX_CHARS].rstrip(" .")
    return name


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check_extension(name: str) -> None:
    """Refuse names that would run or render somewhere, before any byte is read."""
    ext = extension(name)
    if ext in BLOCKED_EXTENSIONS:
        raise Refused(f"files named .{ext} can't be attached")


def reconcile(name: str, found: FileType) -> tuple[str, FileType]:
    """The stored name and type: a name claiming another kind of content is refused; a
    name claiming a sibling format follows the content (photo.jpg holding a PNG becomes
    photo.png); a missing or unknown extension gets the right one."""
    ext = extension(name)
    claimed = EXTENSIONS.get(ext)
    if claimed is None:
        return f"{name}.{found.extension}", found
    if claimed == found:
        return name, found
    for group in _CONTAINERS:
        if claimed in group and found in group:
            return name, claimed
    if claimed.kind == found.kind or {claimed.kind, found.kind} <= {Kind.AUDIO, Kind.VIDEO}:
        return f"{name[: -len(ext) - 1]}.{found.extension}", found
    raise TypeMismatch(
        f"the name says .{ext} but the content is {_describe(found)}: rename it or attach "
        "the right file"
    )


def _describe(found: FileType) -> str:
    return {
        Kind.IMAGE: "an image",
        Kind.PDF: "a PDF",
        Kind.DOCUMENT: "an office document",
        Kind.TEXT: "plain text",
        Kind.AUDIO: "audio",
        Kind.VIDEO: "video",
    }[found.kind]
