"""``python -m mfc_precompress OUTPUT CACHE SETTINGS``: the compression of a
build, in a process of its own (see precompress_output).

SETTINGS is a JSON object of the PRECOMPRESS_* settings. Prints the number
of files read and of copies written, as JSON.
"""

import json
import sys
from pathlib import Path

from mfc_precompress import precompress

output, cache, settings = sys.argv[1:]
print(json.dumps(precompress(Path(output), Path(cache), json.loads(settings))))
