"""Admission of Gardener Shoots for every served network type (the Go extensions' admission component).

`shoots` holds the pure checks and mutations, driven by the `admission:` section of each
`values-mapping/<type>.yaml`; `jsonpatch` turns a mutation into the JSONPatch an AdmissionReview
answers with; `command` is `gardener-extension-networking admission`, which serves them over HTTPS
(`controller.webhooks`) and registers the webhook configurations in the garden cluster.
"""
