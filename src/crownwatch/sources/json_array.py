"""The records array of a one-document JSON file, cut out so DuckDB can stream it.

A CloudTrail file is ``{"Records": [ … ]}`` and a Graph page ``{"@odata.context": …,
"value": [ … ], "@odata.nextLink": …}``: one JSON document. DuckDB reads a document
only whole — a buffer twice its size, then the parsed tree — which took 4.9 GB of
memory for a 436 MB CloudTrail file. A top-level *array*, though, DuckDB reads element
by element in bounded buffers (``read_json_objects(format='array')``). So when the
records array is a member of the top-level object, its bytes are copied, in chunks
and gunzipped on the way, to a scratch file that holds just the array; the array is
then read like any top-level array.

Only the shapes real exporters write are cut: the array's key at the top level after
nothing but scalar members, and nothing after the array but scalar members (a Graph
page's ``@odata.nextLink``). Anything else — nested keys, a cut-off file, objects after
the array — returns None and the caller reads the document whole as before (a broken
document then goes to the salvage reader, which keeps its complete records).
"""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from pathlib import Path

from crownwatch.sources.reader import tolerant_chunks

_STR = rb'"(?:[^"\\]|\\.)*"'
_SCALAR = rb"(?:" + _STR + rb"|-?\d[\d.eE+-]*|true|false|null)"
_MEMBER = rb"\s*" + _STR + rb"\s*:\s*" + _SCALAR + rb"\s*"
#: where the records array starts, for a key: ``{`` scalar members, then ``"key": [``
_HEAD = rb"\A(?:\xef\xbb\xbf)?\s*\{(?:" + _MEMBER + rb",)*\s*\"%s\"\s*:\s*\["
#: what may follow the array's closing bracket: scalar members, the object's end
_TAIL = re.compile(rb"(?:\s*," + _MEMBER + rb")*\s*\}\s*\Z")
#: how much of the file's start may precede the array (a long @odata.context fits)
_HEAD_LIMIT = 1 << 16
#: how much of the file's end is kept to find the array's end in
_TAIL_KEEP = 1 << 16


def cut_array(path: Path, key: str, scratch: Path | None = None) -> Path | None:
    """A scratch file holding exactly the array under top-level ``key`` of the
    (possibly gzipped) document at ``path``, or None when the document is not one of
    the shapes described above. The caller deletes the file."""
    if not re.fullmatch(r"[A-Za-z_@][\w@-]*", key):
        return None  # a dotted path ("hits.hits") is nested: read whole
    head_re = re.compile(_HEAD % re.escape(key.encode()))
    fd, name = tempfile.mkstemp(prefix="records-", suffix=".json", dir=scratch)
    out = Path(name)
    end = None
    try:
        with os.fdopen(fd, "wb") as fh:
            end = _copy_array(path, head_re, fh)
            if end is not None:
                fh.truncate(end)
    except (OSError, EOFError, zlib.error):
        end = None
    if end is None:
        out.unlink(missing_ok=True)
        return None
    return out


def _copy_array(path: Path, head_re: re.Pattern, fh) -> int | None:
    """Copy from the array's ``[`` to the end of the file into ``fh``; return the
    length the copy must be cut to (just past the array's ``]``), or None."""
    head = b""
    started = False
    tail = b""
    written = 0
    for chunk in tolerant_chunks(path):
        if not started:
            head += chunk
            m = head_re.match(head)
            if m is None:
                if len(head) > _HEAD_LIMIT:
                    return None
                continue
            chunk = head[m.end() - 1 :]  # from the "["
            started = True
            head = b""
        fh.write(chunk)
        written += len(chunk)
        tail = (tail + chunk)[-_TAIL_KEEP:]
    if not started:
        return None
    close = _array_close(tail)
    if close is None:
        return None
    return written - len(tail) + close + 1


def _array_close(tail: bytes) -> int | None:
    """Offset in ``tail`` of the ``]`` that closes the records array: the last one
    that only scalar members and the object's ``}`` follow. (``_TAIL.match(tail, pos)``
    anchors at ``pos`` itself, which is why the pattern has no ``\\A``.)"""
    i = len(tail)
    while (i := tail.rfind(b"]", 0, i)) >= 0:
        if _TAIL.match(tail, i + 1):
            return i
    return None
