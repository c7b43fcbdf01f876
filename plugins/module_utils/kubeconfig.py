# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn module parameters, a kubeconfig or the in-cluster service account into connection settings."""

from __future__ import annotations

import base64
import json
import os

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

try:
    import yaml

    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_YAML = False

_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ConnectionSettings:
    """Everything ApiClient needs to reach and authenticate to one API server."""

    def __init__(self, server, source):
        self.server = server.rstrip("/")
        self.source = source  # where the settings come from, for error messages
        self.ca_file = None
        self.ca_data = None  # PEM text
        self.insecure = False
        self.cert_file = None
        self.key_file = None
        self.cert_data = None  # PEM bytes
        self.key_data = None  # PEM bytes
        self.token = None
        self.token_file = None
        self.exec_config = None
        self.tls_server_name = None
        self.namespace = None

    def bearer_token(self):
        """The token to send, read fresh from ``tokenFile`` (rotated service-account tokens)."""
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as handle:
                    return handle.read().strip()
            except OSError as exc:
                raise KubeforgeError(f"cannot read token file {self.token_file}: {exc.strerror}") from exc
        return self.token


def _load_yaml_file(path):
    if not HAS_YAML:
        raise KubeforgeError("PyYAML is required to read kubeconfig files")
    try:
        with open(path, "rb") as handle:
            data = yaml.load(handle, Loader=_YAML_LOADER)
    except OSError as exc:
        raise KubeforgeError(f"cannot read kubeconfig {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise KubeforgeError(f"kubeconfig {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeforgeError(f"kubeconfig {path} is not a mapping")
    return data


def _named(config, key, origin):
    """``{name: (item, origin_dir)}`` for one kubeconfig list (clusters, users, contexts)."""
    result = {}
    for entry in config.get(key) or []:
        if isinstance(entry, dict) and entry.get("name") is not None:
            result[str(entry["name"])] = (entry.get(key[:-1]) or {}, origin)
    return result


def load_kubeconfig(kubeconfig=None):
    """Merged kubeconfig as ``(config, description)``, or ``(None, None)`` when there is none.

    ``config`` has ``clusters``/``users``/``contexts`` maps of ``name -> (item, directory)`` (the directory
    resolves relative file paths) and ``current-context``.
    """
    if isinstance(kubeconfig, dict):
        sources = [(kubeconfig, os.getcwd())]
        description = "the kubeconfig given inline"
    else:
        if kubeconfig:
            paths = [os.path.expanduser(str(kubeconfig))]
            if not os.path.exists(paths[0]):
                raise KubeforgeError(f"kubeconfig file {paths[0]} does not exist")
        elif os.environ.get("KUBECONFIG"):
            paths = [p for p in os.environ["KUBECONFIG"].split(os.pathsep) if p and os.path.exists(p)]
        else:
            default = os.path.expanduser("~/.kube/config")
            paths = [default] if os.path.exists(default) else []
        if not paths:
            return None, None
        sources = [(_load_yaml_file(p), os.path.dirname(os.path.abspath(p))) for p in paths]
        description = "kubeconfig " + os.pathsep.join(paths)
    merged = {"clusters": {}, "users": {}, "contexts": {}, "current-context": None}
    for data, origin in sources:
        for key in ("clusters", "users", "contexts"):
            for name, value in _named(data, key, origin).items():
                merged[key].setdefault(name, value)
        if not merged["current-context"] and data.get("current-context"):
            merged["current-context"] = data["current-context"]
    return merged, description


def _path(value, origin):
    value = os.path.expanduser(str(value))
    return value if os.path.isabs(value) else os.path.join(origin, value)


def _b64(value, what, description):
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError) as exc:
        raise KubeforgeError(f"{what} in {description} is not valid base64") from exc


def _from_kubeconfig(config, description, context_name):
    name = context_name or config["current-context"]
    if not name:
        raise KubeforgeError(f"{description} sets no current-context; set the context option")
    if name not in config["contexts"]:
        known = ", ".join(sorted(config["contexts"])) or "none"
        raise KubeforgeError(f"context {name!r} not found in {description} (contexts: {known})")
    context, _origin = config["contexts"][name]
    cluster_name = context.get("cluster")
    if cluster_name not in config["clusters"]:
        raise KubeforgeError(
            f"context {name!r} refers to cluster {cluster_name!r}, which {description} does not define"
        )
    cluster, corigin = config["clusters"][cluster_name]
    if not cluster.get("server"):
        raise KubeforgeError(f"cluster {cluster_name!r} in {description} has no server")
    settings = ConnectionSettings(cluster["server"], f"context {name!r} of {description}")
    settings.namespace = context.get("namespace")
    if cluster.get("certificate-authority-data"):
        settings.ca_data = _b64(
            cluster["certificate-authority-data"], "certificate-authority-data", description
        ).decode()
    elif cluster.get("certificate-authority"):
        settings.ca_file = _path(cluster["certificate-authority"], corigin)
    settings.insecure = bool(cluster.get("insecure-skip-tls-verify"))
    settings.tls_server_name = cluster.get("tls-server-name")
    user_name = context.get("user")
    if user_name:
        if user_name not in config["users"]:
            raise KubeforgeError(f"context {name!r} refers to user {user_name!r}, which {description} does not define")
        _set_user(settings, user_name, config["users"][user_name], description)
    return settings


def _set_user(settings, user_name, user_entry, description):
    user, uorigin = user_entry
    if user.get("client-certificate-data"):
        settings.cert_data = _b64(user["client-certificate-data"], "client-certificate-data", description)
    elif user.get("client-certificate"):
        settings.cert_file = _path(user["client-certificate"], uorigin)
    if user.get("client-key-data"):
        settings.key_data = _b64(user["client-key-data"], "client-key-data", description)
    elif user.get("client-key"):
        settings.key_file = _path(user["client-key"], uorigin)
    settings.token = user.get("token")
    if user.get("tokenFile"):
        settings.token_file = _path(user["tokenFile"], uorigin)
    if user.get("exec"):
        settings.exec_config = user["exec"]
    if user.get("auth-provider"):
        raise KubeforgeError(
            f"user {user_name!r} in {description} uses an auth-provider, which is not supported; use an exec plugin"
        )


def _in_cluster():
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    token = os.path.join(_SA_DIR, "token")
    if not host or not os.path.exists(token):
        return None
    if ":" in host:
        host = f"[{host}]"
    settings = ConnectionSettings(f"https://{host}:{port}", "the in-cluster service account")
    settings.token_file = token
    settings.ca_file = os.path.join(_SA_DIR, "ca.crt")
    try:
        with open(os.path.join(_SA_DIR, "namespace"), encoding="utf-8") as handle:
            settings.namespace = handle.read().strip()
    except OSError:
        settings.namespace = None
    return settings


def run_exec_plugin(exec_config, run_command):
    """Run a client-go exec credential plugin; return its ``status`` (token or client certificate).

    ``run_command(argv, environ_update=...)`` returns ``(rc, stdout, stderr)`` like AnsibleModule.run_command.
    """
    command = exec_config.get("command")
    if not command:
        raise KubeforgeError("exec credential plugin has no command")
    if run_command is None:
        raise KubeforgeError(f"exec credential plugin {command}: no command runner given to the client")
    env = {}
    for item in exec_config.get("env") or []:
        env[str(item.get("name"))] = str(item.get("value"))
    api_version = exec_config.get("apiVersion") or "client.authentication.k8s.io/v1"
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    argv = [command, *[str(a) for a in exec_config.get("args") or []]]
    rc, stdout, stderr = run_command(argv, environ_update=env)
    if rc != 0:
        hint = exec_config.get("installHint") or ""
        raise KubeforgeError(f"exec credential plugin {command} exited with {rc}: {str(stderr).strip()[-500:]} {hint}")
    try:
        status = json.loads(stdout).get("status") or {}
    except (ValueError, AttributeError) as exc:
        raise KubeforgeError(f"exec credential plugin {command} did not print an ExecCredential") from exc
    return status


def connection_settings(params):
    """Resolve the auth options of AUTH_ARG_SPEC into ConnectionSettings.

    Explicit options (``host``, ``api_key``, ``ca_cert``, ``client_cert``, ``client_key``,
    ``validate_certs``) override what the kubeconfig says.
    """
    settings = None
    explicit_config = params.get("kubeconfig") or params.get("context")
    if explicit_config or not params.get("host"):
        config, description = load_kubeconfig(params.get("kubeconfig"))
        if config is not None:
            settings = _from_kubeconfig(config, description, params.get("context"))
        elif params.get("context"):
            raise KubeforgeError("context {!r} requested but no kubeconfig was found".format(params["context"]))
        elif not params.get("host"):
            settings = _in_cluster()
            if settings is None:
                raise KubeforgeError(
                    "no kubeconfig found (kubeconfig option, KUBECONFIG, ~/.kube/config) and not running "
                    "in a cluster; set kubeconfig or host"
                )
    if params.get("host"):
        host = params["host"]
        if settings is None:
            settings = ConnectionSettings(host, "the host option")
        else:
            settings.server = host.rstrip("/")
    _set_overrides(settings, params)
    return settings


def _set_overrides(settings, params):
    if params.get("api_key"):
        settings.token, settings.token_file, settings.exec_config = params["api_key"], None, None
    if params.get("ca_cert"):
        settings.ca_file, settings.ca_data = params["ca_cert"], None
    if params.get("client_cert"):
        settings.cert_file, settings.cert_data = params["client_cert"], None
    if params.get("client_key"):
        settings.key_file, settings.key_data = params["client_key"], None
    if params.get("validate_certs") is not None:
        settings.insecure = not params["validate_certs"]
