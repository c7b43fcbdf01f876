# Copyright: kubeforge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read ``src`` (a file or directory of manifests) and render ``template`` on the controller, then run the module
with the parsed objects as ``definition`` (on the controller when the task's host is the controller)."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible_collections.kubeforge.cluster.plugins.module_utils.errors import KubeforgeError
from ansible_collections.kubeforge.cluster.plugins.module_utils.manifests import flatten
from ansible_collections.kubeforge.cluster.plugins.plugin_utils.inprocess import ApiAction

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: template text is trusted as is

    def trust_as_template(value):
        return value


_MANIFEST_SUFFIXES = (".yml", ".yaml", ".json")


class ActionModule(ApiAction):
    def _manifest_files(self, src):
        path = self._find_needle("files", src)
        if not os.path.isdir(path):
            return [path]
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(_MANIFEST_SUFFIXES))
        if not found:
            raise AnsibleActionFail(f"src directory {path} holds no .yml, .yaml or .json manifest")
        return found

    def _read_src(self, src):
        objects = []
        for path in self._manifest_files(src):
            with open(path, encoding="utf-8") as handle:
                objects.extend(flatten(handle.read(), path))
        return objects

    def _render_template(self, template, task_vars):
        path = self._find_needle("templates", template)
        text = trust_as_template(self._loader.get_text_file_contents(path))
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        rendered = templar.template(text, escape_backslashes=False)
        # Plain text for the YAML parser (ansible-core 2.19+ returns a tagged str subclass).
        return flatten(rendered if isinstance(rendered, (dict, list)) else str(rendered), path)

    def module_args(self, task_vars):
        args = dict(self._task.args)
        src, template = args.pop("src", None), args.pop("template", None)
        if src or template:
            if args.get("definition") is not None or (src and template):
                raise AnsibleActionFail("definition, src and template are mutually exclusive")
            try:
                args["definition"] = self._read_src(src) if src else self._render_template(template, task_vars)
            except KubeforgeError as exc:
                raise AnsibleActionFail(str(exc)) from exc
        return args
