"""kubesim: a Kubernetes API test server for the kubeforge.cluster tests (not part of the collection)."""
