"""Stand-in for pip's get-pip.py, for ansible-test on machines that reach PyPI but not ci-files.testing.ansible.com.

ansible-test bootstraps pip in its sanity virtual environments by running a cached get-pip script with pip's
install arguments (e.g. ``--disable-pip-version-check pip==25.2 --no-setuptools --no-wheel``). This script gets a
pip from the interpreter's own ensurepip, then lets that pip install the requested version from the package index.
"""

import ensurepip
import os
import ssl
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
# ensurepip's pip may be too old to read the system's pip.conf ``cert``; a proxy's CA lives in the system bundle.
for bundle in (os.environ.get("PIP_CERT"), "/etc/ssl/certs/ca-certificates.crt", ssl.get_default_verify_paths().cafile):
    if bundle and os.path.isfile(bundle):
        args = ["--cert", bundle, *args]
        break
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
