"""HTTPS admission webhooks: certificates, the AdmissionReview server, registrations, shoot-side edits.

Used by `gardener-extension-networking admission` (Shoot validation and mutation in the garden) and by
`run` (the `/shoot` webhook that the cilium shoots call for node-local-dns). `certs` makes and rotates
the CA and serving certificate kept in a Secret, `server` answers AdmissionReviews, `registration`
builds the webhook configurations (and the shoot's ManagedResource), `edits` applies the declarative
object mutations of a mapping file's `shootWebhook` section.
"""
