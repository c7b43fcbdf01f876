# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn module parameters, a kubeconfig or the in-cluster service account into connection settings."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError

try:
    import yaml

    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_YAML = False

_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything ApiClient needs to reach and authenticate to one API server, credentials resolved.

    Built once, by ``connection_settings``: an exec credential plugin has already run, its token or client
    certificate is in ``token`` or ``cert_data``/``key_data``.
    """

    server: str
    source: str  # where the settings come from, for error messages
    ca_file: str | None = None
    ca_data: str | None = None  # PEM text
    insecure: bool = False
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = None  # PEM
    key_data: bytes | None = None  # PEM
    token: str | None = None
    token_file: str | None = None  # read at every request (rotated service-account tokens)
    tls_server_name: str | None = None
    namespace: str | None = None

    def bearer_token(self) -> str | None:
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


def missing_kubeconfig_file(kubeconfig: str | dict | None) -> str | None:
    """The path ``kubeconfig`` names when it is a path and no such file exists (else None). Needs no PyYAML."""
    if not kubeconfig or isinstance(kubeconfig, dict):
        return None
    path = os.path.expanduser(str(kubeconfig))
    return None if os.path.exists(path) else path


def reports_missing_kubeconfig(params: dict) -> bool:
    """Whether the module is to report, not fail on, a kubeconfig file that does not exist (its option
    ``missing_kubeconfig: report``, resource_info) and the file named by ``kubeconfig`` is missing."""
    asked = params.get("missing_kubeconfig") == "report"
    return asked and missing_kubeconfig_file(params.get("kubeconfig")) is not None


def load_kubeconfig(kubeconfig: str | dict | None = None) -> tuple[dict | None, str | None]:
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
            if missing_kubeconfig_file(kubeconfig):
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
    """The connection fields of one kubeconfig context (``exec``: the user's exec plugin, resolved later)."""
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
    fields = {
        "server": cluster["server"],
        "source": f"context {name!r} of {description}",
        "namespace": context.get("namespace"),
        "insecure": bool(cluster.get("insecure-skip-tls-verify")),
        "tls_server_name": cluster.get("tls-server-name"),
    }
    if cluster.get("certificate-authority-data"):
        fields["ca_data"] = _b64(cluster["certificate-authority-data"], "certificate-authority-data", description)
        fields["ca_data"] = fields["ca_data"].decode()
    elif cluster.get("certificate-authority"):
        fields["ca_file"] = _path(cluster["certificate-authority"], corigin)
    user_name = context.get("user")
    if user_name:
        if user_name not in config["users"]:
            raise KubeforgeError(f"context {name!r} refers to user {user_name!r}, which {description} does not define")
        fields.update(_user_fields(user_name, config["users"][user_name], description))
    return fields


def _user_fields(user_name, user_entry, description):
    user, uorigin = user_entry
    if user.get("auth-provider"):
        raise KubeforgeError(
            f"user {user_name!r} in {description} uses an auth-provider, which is not supported; use an exec plugin"
        )
    fields = {"token": user.get("token"), "exec": user.get("exec") or None}
    if user.get("client-certificate-data"):
        fields["cert_data"] = _b64(user["client-certificate-data"], "client-certificate-data", description)
    elif user.get("client-certificate"):
        fields["cert_file"] = _path(user["client-certificate"], uorigin)
    if user.get("client-key-data"):
        fields["key_data"] = _b64(user["client-key-data"], "client-key-data", description)
    elif user.get("client-key"):
        fields["key_file"] = _path(user["client-key"], uorigin)
    if user.get("tokenFile"):
        fields["token_file"] = _path(user["tokenFile"], uorigin)
    return fields


def _in_cluster():
    """The connection fields of the in-cluster service account, or None outside a cluster."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    token = os.path.join(_SA_DIR, "token")
    if not host or not os.path.exists(token):
        return None
    if ":" in host:
        host = f"[{host}]"
    try:
        with open(os.path.join(_SA_DIR, "namespace"), encoding="utf-8") as handle:
            namespace = handle.read().strip()
    except OSError:
        namespace = None
    return {
        "server": f"https://{host}:{port}",
        "source": "the in-cluster service account",
        "token_file": token,
        "ca_file": os.path.join(_SA_DIR, "ca.crt"),
        "namespace": namespace,
    }


def run_exec_plugin(exec_config: dict, run_command: Callable | None) -> dict:
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


def connection_settings(params: dict, run_command: Callable | None = None) -> ConnectionSettings:
    """Resolve the auth options of AUTH_ARG_SPEC into ConnectionSettings: the one place credentials are resolved.

    Explicit options (``host``, ``api_key``, ``ca_cert``, ``client_cert``, ``client_key``,
    ``validate_certs``) override what the kubeconfig says. A kubeconfig user's exec credential plugin runs here,
    through ``run_command`` (AnsibleModule.run_command's contract), unless a static token makes it unneeded.
    """
    fields = None
    explicit_config = params.get("kubeconfig") or params.get("context")
    if explicit_config or not params.get("host"):
        config, description = load_kubeconfig(params.get("kubeconfig"))
        if config is not None:
            fields = _from_kubeconfig(config, description, params.get("context"))
        elif params.get("context"):
            raise KubeforgeError("context {!r} requested but no kubeconfig was found".format(params["context"]))
        elif not params.get("host"):
            fields = _in_cluster()
            if fields is None:
                raise KubeforgeError(
                    "no kubeconfig found (kubeconfig option, KUBECONFIG, ~/.kube/config) and not running "
                    "in a cluster; set kubeconfig or host"
                )
    if params.get("host"):
        fields = dict(fields or {"source": "the host option"}, server=params["host"])
    fields.update(_overrides(params))
    exec_config = fields.pop("exec", None)
    if exec_config and not fields.get("token"):
        fields.update(_exec_credentials(exec_config, run_command, fields.get("token_file")))
    fields["server"] = fields["server"].rstrip("/")
    return ConnectionSettings(**fields)


def _overrides(params):
    """The connection fields that explicit options set (each replaces what the kubeconfig says)."""
    fields = {}
    if params.get("api_key"):
        fields.update(token=params["api_key"], token_file=None, exec=None)
    if params.get("ca_cert"):
        fields.update(ca_file=params["ca_cert"], ca_data=None)
    if params.get("client_cert"):
        fields.update(cert_file=params["client_cert"], cert_data=None)
    if params.get("client_key"):
        fields.update(key_file=params["client_key"], key_data=None)
    if params.get("validate_certs") is not None:
        fields["insecure"] = not params["validate_certs"]
    return fields


def _exec_credentials(exec_config, run_command, token_file):
    """The fields an exec credential plugin provides: its client certificate and key, and its token (a token
    file, read at every request, still comes first)."""
    status = run_exec_plugin(exec_config, run_command)
    fields = {}
    if status.get("clientCertificateData"):
        fields["cert_data"] = status["clientCertificateData"].encode()
        fields["key_data"] = (status.get("clientKeyData") or "").encode()
    if not token_file:
        fields["token"] = status.get("token")
    return fields
