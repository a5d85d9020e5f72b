"""A staged build writes over the output before last, not into a new folder.

Every build used to create its ~50,000 files (10,000 news items: pages, .gz
and .br copies, search fragments) in a fresh staging folder and delete the
old output after the swap. On ext4 without a journal (this kind of machine)
creating files just after deleting as many costs quadratic time: the inode
allocator skips every recently deleted inode, one at a time. A warm build at
10,000 items spent 26 s of system time, 15 s of it there.

So the old output is kept after the swap as a spare tree (``output.spare``)
and the next build claims it as its staging folder:

1. ``claim_spare``: the spare is renamed onto the fresh staging folder.
   Files with more than one link (photo derivatives and search files linked
   from the caches) are unlinked: a link shares its inode, and so its change
   time, with the cache, so it could look written by this build when it was
   not. Removing a link frees no inode. Then a marker file is written.
2. Pelican and the plugins write as they always do; rewriting a file in
   place reuses its inode. The marker keeps Pelican from emptying the folder
   (``DELETE_OUTPUT_DIRECTORY``). Pelican's pages and feeds and the .gz and
   .br copies go through ``write_if_changed``: a file that already holds
   the same bytes is only marked as written (its change time), keeping its
   modification time; truncating and rewriting it cost ~0.1 ms a file here.
3. ``prune_untouched``, the first ``finalized`` step, before anything reads
   the whole tree (search index, compression): every file whose inode change
   time is older than the marker was not written by this build, and is
   deleted; so are the folders that become empty. The .gz and .br copies
   wait: mfc_precompress rewrites them later, and build.py prunes once more
   when Pelican is done. What remains is exactly what a build into an empty
   folder writes (tests/test_build_identical.py).
4. After the swap the old output becomes the spare; a failed build's
   staging folder too (whatever it holds is rewritten or pruned next time).

The change time (ctime), unlike the modification time, cannot be set by a
program: ``shutil.copy2`` copies a source's mtime but the copy's ctime is
now. Both come from the same kernel clock as the marker's; if that clock
went back during the build the prune refuses to run and the build fails.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import time
from pathlib import Path

from pelican import writers as pelican_writers

log = logging.getLogger(__name__)

SPARE = ".spare"
MARKER = ".mfc-reused-tree"
# Written after the first prune, by mfc_precompress; pruned at the very end.
LATER = (".gz", ".br")


def spare_of(output: Path) -> Path:
    return output.with_name(output.name + SPARE)


def claim_spare(output: Path, staging: Path) -> bool:
    """Move the spare tree into the (empty) staging folder; True if there was one."""
    try:
        os.rename(spare_of(output), staging)  # replaces the empty folder
    except OSError:  # none, or another build took it
        return False
    unlink_shared(staging)
    (staging / MARKER).write_bytes(b"")
    return True


def unlink_shared(root: Path) -> None:
    """Remove every file of ``root`` that has other links (cache copies).

    All are listed first: two links of one inode in the tree both go, though
    removing the first leaves the second alone.
    """
    shared = [
        os.path.join(folder, name)
        for folder, _dirs, files in os.walk(root)
        for name in files
        if os.lstat(os.path.join(folder, name)).st_nlink > 1
    ]
    for path in shared:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def keep_as_spare(tree: Path, output: Path) -> None:
    """Keep ``tree`` (an old output, or a failed build's staging) as the spare."""
    if tree.is_symlink():  # an output that was a link to elsewhere
        tree.unlink()
        return
    if not tree.exists():
        return
    try:
        os.rename(tree, spare_of(output))
    except OSError:  # a spare is there already (another build's): not needed
        shutil.rmtree(tree, ignore_errors=True)


def reused(output_path: str | os.PathLike) -> bool:
    return os.path.lexists(os.path.join(output_path, MARKER))


def prune_untouched(output_path: str | os.PathLike, *, final: bool = True) -> int:
    """Delete what this build did not write in a reused tree; the count.

    Before the last steps (``final=False``) the .gz and .br copies stay:
    mfc_precompress rewrites them after, in place; the final prune deletes
    the copies it did not rewrite, and the marker.
    """
    root = os.fspath(output_path)
    marker = os.path.join(root, MARKER)
    try:
        since = os.lstat(marker).st_ctime_ns
    except FileNotFoundError:
        return 0  # a fresh folder, or pruned already
    if time.time_ns() < since:  # what this build wrote could look older
        raise RuntimeError("the system clock went back during the build; build again")
    later = () if final else LATER
    removed = 0
    emptied: set[str] = set()
    for folder, dirs, files in os.walk(root, topdown=False):
        before = os.lstat(folder).st_ctime_ns
        # os.walk lists a symbolic link to a folder among the folders
        links = [name for name in dirs if os.path.islink(os.path.join(folder, name))]
        for name in [*files, *links]:
            if name == MARKER or name.endswith(later):
                continue
            path = os.path.join(folder, name)
            if os.lstat(path).st_ctime_ns < since:
                os.unlink(path)
                removed += 1
                emptied.add(folder)
        if folder == root or (folder not in emptied and before >= since):
            continue  # the top, or a folder this build made (even empty)
        with contextlib.suppress(OSError):  # not empty: kept
            os.rmdir(folder)
            emptied.add(os.path.dirname(folder))
    if final:
        os.unlink(marker)
    return removed


def write_if_changed(path: str | os.PathLike, data: bytes) -> bool:
    """Write ``data`` unless the file holds it already; True if written.

    An unchanged file gets its own times set again, which marks it as
    written by this build (its change time) for ``prune_untouched``.
    """
    try:
        with open(path, "rb") as file:
            if file.read(len(data) + 1) == data:
                st = os.fstat(file.fileno())
                os.utime(file.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
                return False
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        pass
    with open(path, "wb") as file:
        file.write(data)
    return True


class _TextIfChanged(io.StringIO):
    """A text file for Pelican's writer, written on close if it changed."""

    def __init__(self, path: str, encoding: str) -> None:
        super().__init__()
        self.path, self.codec = path, encoding

    def close(self) -> None:
        if not self.closed:
            write_if_changed(self.path, self.getvalue().encode(self.codec))
        super().close()


def _writer_open(file, mode="r", *args, encoding=None, **kwargs):
    """``open`` as Pelican's writer module sees it: its pages and feeds
    (mode "w", the only one it uses) are written only if they changed."""
    if mode == "w" and not args and not kwargs and file != os.devnull:
        return _TextIfChanged(os.fspath(file), encoding or "utf-8")
    return open(file, mode, *args, encoding=encoding, **kwargs)


def keep_reused_tree(pelican) -> None:
    """`initialized`: Pelican must not empty a reused staging folder; its
    writer rewrites only the pages that changed."""
    pelican_writers.open = _writer_open
    if reused(pelican.output_path):
        pelican.delete_outputdir = False


def prune(pelican) -> None:
    """`finalized`, first of all: the reused tree holds only this build's
    files (and old compressed copies, pruned after the build, build.py)."""
    removed = prune_untouched(pelican.output_path, final=False)
    log.debug("mfc_content: removed %d files of the output before last", removed)
