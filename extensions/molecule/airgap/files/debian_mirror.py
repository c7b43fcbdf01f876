"""Exit 0 when the Debian mirror of this host's apt sources is reachable as expected (argv[1]: up | down).

Docker gives an --internal network a gateway address too, but drops what goes beyond it: the proof of the cut is
that the mirror which answered before it no longer does.
"""

import glob
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

paths = glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*")
text = "".join(Path(p).read_text() for p in paths if p.endswith((".list", ".sources")))
url = re.search(r"https?://[^\s]+", text).group(0)
try:
    urllib.request.urlopen(url, timeout=5).close()
    reached = True
except urllib.error.HTTPError as exc:  # an answer, whatever its status: the mirror is reachable
    print(f"{url} answered {exc.code}")
    reached = True
except OSError as exc:
    print(f"{url} unreachable: {exc}")
    reached = False
if reached != (sys.argv[1] == "up"):
    sys.exit(f"{url} {'answered: the node is not cut off' if reached else 'did not answer before the cut'}")
print(f"{url} {'answered' if reached else 'is out of reach'}")
