"""The web client's files, read once at start (and again only when one changes on disk):
each with its ETag and, when it is text, its gzip form made once at level 9, so serving
one costs no CPU; and the app shell (index.html) completed with a
`<link rel="modulepreload">` for every module its entry script imports, found by
following the static imports of the tree, so a module another part adds is covered
without a list to keep."""

from __future__ import annotations

import gzip
import hashlib
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

# Types careline serves its files as; text types are also precompressed.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}
COMPRESSIBLE = frozenset({".html", ".js", ".css", ".svg", ".webmanifest", ".json"})
# Smaller than this, gzip's own header and a round of decoding cost more than they save.
MIN_COMPRESS_BYTES = 256

# `import x from './a.js'`, `import './a.js'`, `export {x} from './a.js'` (static imports
# only: a dynamic import() is loaded when needed, on purpose).
_STATIC_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^'"`;()]*?(?:\bfrom\s*)?['"]([^'"]+\.js)['"]""",
    re.MULTILINE,
)
_ENTRY = re.compile(r"""<script\s+type="module"\s+src="([^"]+)"></script>""")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str
    gzipped: bytes | None  # None: not worth compressing, or compressed already
    stamp: tuple[int, int]  # the file's mtime and size when read

    @property
    def gzip_etag(self) -> str:
        # A different representation has a different strong validator (RFC 9110 8.8.3).
        return self.etag[:-1] + '.gz"'


def _stamp(file: Path) -> tuple[int, int]:
    try:
        stat = file.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _asset(body: bytes, suffix: str, stamp: tuple[int, int]) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:24]
    gzipped = None
    if suffix in COMPRESSIBLE and len(body) >= MIN_COMPRESS_BYTES:
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    media_type = TYPES.get(suffix, "application/octet-stream")
    return Asset(body, media_type, f'"{digest}"', gzipped, stamp)


def module_graph(root: Path, entry: str) -> list[str]:
    """The URL paths of every module `entry` (a URL path such as /js/main.js) imports,
    directly or not, in the order they are first found, without the entry itself."""
    seen = [entry]
    queue = [entry]
    while queue:
        url = queue.pop(0)
        file = root / url.lstrip("/")
        for spec in _STATIC_IMPORT.findall(file.read_text(encoding="utf-8")):
            if spec.startswith(("./", "../")):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(url), spec))
            elif spec.startswith("/"):
                target = posixpath.normpath(spec)
            else:
                continue  # a bare or remote specifier: careline has none
            if target not in seen and (root / target.lstrip("/")).is_file():
                seen.append(target)
                queue.append(target)
    return seen[1:]


def shell(root: Path, html: str) -> str:
    """index.html with a modulepreload link for every module of its entry's graph, put
    before the entry script so the browser asks for them all at once."""
    entry = _ENTRY.search(html)
    if entry is None:
        return html
    links = "".join(
        f'<link rel="modulepreload" href="{url}">\n  ' for url in module_graph(root, entry.group(1))
    )
    return html[: entry.start()] + links + html[entry.start() :]


def load(root: Path) -> dict[str, Asset]:
    """Every file under `root`, by its path relative to it ("index.html", "js/main.js")."""
    assets: dict[str, Asset] = {}
    for file in sorted(root.rglob("*")):
        if not file.is_file() or file.name.startswith("."):
            continue
        name = file.relative_to(root).as_posix()
        stamp = _stamp(file)
        body = file.read_bytes()
        if name == "index.html":
            body = shell(root, body.decode("utf-8")).encode("utf-8")
        assets[name] = _asset(body, file.suffix, stamp)
    return assets


def changed(root: Path, name: str, asset: Asset) -> bool:
    """Whether the file changed on disk since it was read (someone working on the client
    while careline runs): one stat, so an edit shows on the next reload."""
    return _stamp(root / name) != asset.stamp


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 12.5.3)."""
    allowed = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = coding.strip().lower()
        if coding == "gzip":
            return q > 0
        if coding == "*":
            allowed = q > 0
    return bool(allowed)
