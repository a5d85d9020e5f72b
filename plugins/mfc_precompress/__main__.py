"""``python -m mfc_precompress OUTPUT CACHE SETTINGS``: the compression of a
build's output, in a process of its own (see ``Background``).

SETTINGS is a JSON object of the PRECOMPRESS_* settings. It compresses the
text files in OUTPUT, at the lowest priority: while the build makes the
search index from the same pages, it takes the time the index leaves idle.
Then it waits for the line ``finish`` on its input (the site is complete),
compresses what was written or changed since, prunes the cache, and prints
(files, copies written, files compressed late) as JSON. If its input ends
without that line (the build failed), it stops there.
"""

import json
import os
import sys
from pathlib import Path

from mfc_precompress import FINISH, compress_tree, finish

output, cache, settings = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
os.nice(19)
earlier = compress_tree(output, cache, settings)
if sys.stdin.readline().strip() == FINISH:
    print(json.dumps(finish(output, cache, settings, earlier)))
