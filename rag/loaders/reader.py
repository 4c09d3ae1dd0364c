"""Read and decode bytes: UTF-8 first, a detected encoding otherwise; refuse empty and binary files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from rag.types import Problem

# A whole-file article larger than this is not an article; 16 MB is ten times the largest
# Reuters .sgm file (1.5 MB, 1,000 stories). JSON Lines files are streamed instead.
MAX_FILE_BYTES = 16 * 1024 * 1024
_SNIFF = 8192
# UTF-32 first: its little-endian mark begins with UTF-16's
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)  # fmt: skip
WIDE_BOMS = tuple(bom for bom, _ in _BOMS)
NOT_UTF8 = "not valid UTF-8"  # how a decoding note begins: the text was kept (rag.ingest.is_note)


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    problems: tuple[Problem, ...] = ()


def too_big(path: Path, limit: int = MAX_FILE_BYTES) -> Problem | None:
    size = path.stat().st_size
    if size > limit:
        return Problem(
            str(path),
            f"file is {size / 2**20:.1f} MB, over the {limit / 2**20:.0f} MB limit for one file; "
            "split it, or use JSON Lines (read one line at a time)",
        )
    return None


def is_binary(head: bytes) -> bool:
    """NUL bytes or many control bytes in the first 8 KB: an image, an archive, a PDF."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xef\xbb\xbf")):
        return False  # UTF-16 (which has NULs) or UTF-8 with a byte-order mark
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    return controls > len(head) * 0.05


def decode(data: bytes, path: str) -> Decoded:
    """Text of `data`, or None with the reason.

    UTF-8 when valid. Mostly-ASCII text is Latin script: `latin_guess` picks among the Western and
    Central European encodings by the letters each decoding gives (bbc sport/199.txt has one 0xA3
    "£", where charset-normalizer guessed cp932; short French text came back as cp1257). Anything
    else goes to charset-normalizer. A non-UTF-8 file is reported, but its text is kept.
    """
    if not data.strip():
        return Decoded(None, None, (Problem(path, "empty file"),))
    if is_binary(data[:_SNIFF]):
        return Decoded(
            None, None, (Problem(path, "binary file (not text); remove it or pass text files only"),)
        )
    # A UTF-16/32 byte-order mark names the encoding outright; without this check the text went
    # to cp1252 below (its NULs are ASCII) and came back as "\xff\xfeH..." with the title garbled.
    for bom, wide in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(wide), wide)
            except UnicodeDecodeError as exc:
                reason = f"invalid {wide} after its byte-order mark ({exc.reason})"
                return Decoded(None, None, (Problem(path, reason),))
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    non_ascii = len(data.translate(None, bytes(range(128))))  # deletes the ASCII bytes
    latin = latin_guess(data) if non_ascii <= len(data) * LATIN_SHARE else None
    if latin is not None:
        encoding, text = latin
    else:
        best = from_bytes(data).best()
        if best is None:
            return Decoded(None, None, (Problem(path, "not text in any known encoding"),))
        encoding, text = best.encoding, str(best)
    note = Problem(path, f"{NOT_UTF8} (first bad byte at offset {first_bad}); decoded as {encoding}")
    return Decoded(text, encoding, (note,))


# Latin-script text in a legacy 8-bit encoding is mostly ASCII (French ~4% accented letters, Czech
# ~10%, a Polish pangram 39%); Cyrillic or Greek is ~80% not, and goes to charset-normalizer.
LATIN_SHARE = 0.5
_LATIN_ENCODINGS = ("cp1252", "cp1250", "iso-8859-2")  # ties go to the first: Western is the commonest
_SHARED = "‘’‚“”„«»–—…•°€£§©®·\xa0"
_LANGUAGES = [set(letters + letters.upper() + _SHARED) for letters in (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíóúñü¿¡",  # Spanish
    "áâãàçéêíóôõú",  # Portuguese
    "àèéìíîòóùú",  # Italian
    "éëïöüáèóú",  # Dutch
    "æøåéäö",  # Danish, Norwegian, Swedish
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "ăâîșțşţ",  # Romanian
    "čćđšž",  # Croatian, Slovene
)]


def latin_guess(data: bytes) -> tuple[str, str] | None:
    """(encoding, text) for Latin-script text in a Western or Central European 8-bit encoding.

    A statistical detector has too little evidence in a short article: charset-normalizer read
    French "crème" as cp1257 "crčme". Each candidate decoding is scored by the best-fitting
    language's letters: +1 for each non-ASCII character that language uses, -2 for any other,
    so "crème" (French) beats "crčme" (no language has both č and the rest), and Polish "źle" in
    cp1250 beats cp1252's "Ÿle". None when no candidate reads as any of these languages.

    >>> latin_guess("crème brûlée à la française".encode("latin-1"))[1]
    'crème brûlée à la française'
    >>> latin_guess("Zażółć gęślą jaźń".encode("cp1250"))
    ('cp1250', 'Zażółć gęślą jaźń')
    """
    best: tuple[int, str, str] | None = None
    for encoding in _LATIN_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        odd = [c for c in text if ord(c) > 127]
        score = max(sum(1 if c in lang else -2 for c in odd) for lang in _LANGUAGES)
        if best is None or score > best[0]:
            best = (score, encoding, text)
    if best is None or best[0] < 0:
        return None
    return best[1], best[2]


def read_text(path: Path, origin: str, limit: int = MAX_FILE_BYTES) -> Decoded:
    """The decoded text of a whole file, refusing files over `limit` before reading them."""
    big = too_big(path, limit)
    if big:
        return Decoded(None, None, (Problem(origin, big.reason),))
    return decode(path.read_bytes(), origin)
