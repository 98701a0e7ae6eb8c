"""The webhook server's own CA and serving certificate: made, checked, rotated, kept in a Secret.

Pure builders (`new_bundle`, `renew`) plus `CertificateStore`, which keeps the bundle in one Secret of
the server's namespace so that every replica serves the same certificate and the webhook
configurations carry one caBundle. Rotation happens before expiry: the serving certificate when less
than a fifth of its lifetime is left (or the host names changed), the CA likewise, keeping its key
pair and name: a caBundle shipped before (a shoot's webhook not yet updated) still verifies the new
serving certificate; the old CA certificate also stays in the bundle (`ca-previous.crt`). Errors reading or writing the Secret are `TransientError`s (retry); a Secret another
replica wrote first wins (re-read, no overwrite).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(days=3 * 365)
SERVING_VALIDITY = datetime.timedelta(days=365)
RENEW_FRACTION = 0.2
KEYS = ("ca.crt", "ca.key", "tls.crt", "tls.key")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Bundle:
    ca_cert: bytes
    ca_key: bytes
    cert: bytes
    key: bytes
    previous_ca: bytes = b""

    @property
    def ca_bundle(self) -> bytes:
        """What the webhook configurations trust: the CA, and the one before it during a rotation."""
        return self.ca_cert + self.previous_ca

    def secret_data(self) -> dict[str, bytes]:
        data = dict(zip(KEYS, (self.ca_cert, self.ca_key, self.cert, self.key)))
        if self.previous_ca:
            data["ca-previous.crt"] = self.previous_ca
        return data

    @classmethod
    def from_secret_data(cls, data: dict[str, bytes]) -> "Bundle | None":
        if not all(data.get(k) for k in KEYS):
            return None
        return cls(*(data[k] for k in KEYS), data.get("ca-previous.crt", b""))

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        load_into(context, self)
        return context


def load_into(context: ssl.SSLContext, bundle: Bundle) -> None:
    """Put the serving certificate into a (running) server context; new handshakes use it."""
    with tempfile.NamedTemporaryFile() as cert, tempfile.NamedTemporaryFile() as key:
        cert.write(bundle.cert)
        key.write(bundle.key)
        cert.flush()
        key.flush()
        context.load_cert_chain(cert.name, key.name)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_ca(common_name: str, now: datetime.datetime | None = None,
           validity: datetime.timedelta = CA_VALIDITY, key_pem: bytes | None = None) -> tuple[bytes, bytes]:
    """A self-signed CA; with `key_pem` a renewed certificate for the same key pair and name, which a
    client holding the old CA certificate still accepts as the issuer."""
    now = now or _now()
    key = serialization.load_pem_private_key(key_pem, None) if key_pem else _key()
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue(ca_cert: bytes, ca_key: bytes, hosts: list[str], now: datetime.datetime | None = None,
          validity: datetime.timedelta = SERVING_VALIDITY) -> tuple[bytes, bytes]:
    now = now or _now()
    ca = x509.load_pem_x509_certificate(ca_cert)
    signer = serialization.load_pem_private_key(ca_key, None)
    key = _key()
    not_after = min(now + validity, ca.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_san(hosts), critical=False)
            .sign(signer, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _due(pem: bytes, now: datetime.datetime) -> bool:
    cert = x509.load_pem_x509_certificate(pem)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    return cert.not_valid_after_utc - now < lifetime * RENEW_FRACTION


def _hosts_of(pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in san.get_values_for_type(x509.DNSName)} | \
        {str(v) for v in san.get_values_for_type(x509.IPAddress)}


def renewal_reason(bundle: Bundle | None, hosts: list[str], now: datetime.datetime | None = None) -> str:
    """Why the bundle must change ("" when it is fine): missing, unreadable, CA or serving cert due,
    host names changed."""
    now = now or _now()
    if bundle is None:
        return "missing"
    try:
        if _due(bundle.ca_cert, now):
            return "ca due"
        if _due(bundle.cert, now):
            return "serving certificate due"
        if not set(hosts) <= _hosts_of(bundle.cert):
            return "host names changed"
        x509.load_pem_x509_certificate(bundle.cert).verify_directly_issued_by(
            x509.load_pem_x509_certificate(bundle.ca_cert))
    except (ValueError, TypeError, InvalidSignature) as exc:
        return f"unreadable: {type(exc).__name__} {exc}"
    return ""


def new_bundle(common_name: str, hosts: list[str], now: datetime.datetime | None = None,
               ca_validity: datetime.timedelta = CA_VALIDITY,
               validity: datetime.timedelta = SERVING_VALIDITY) -> Bundle:
    ca_cert, ca_key = new_ca(common_name, now, ca_validity)
    return Bundle(ca_cert, ca_key, *issue(ca_cert, ca_key, hosts, now, validity))


def renew(bundle: Bundle | None, common_name: str, hosts: list[str], now: datetime.datetime | None = None,
          ca_validity: datetime.timedelta = CA_VALIDITY,
          validity: datetime.timedelta = SERVING_VALIDITY) -> Bundle | None:
    """The bundle to use from now on, or None when the current one is fine."""
    reason = renewal_reason(bundle, hosts, now)
    if not reason:
        return None
    if reason == "ca due":
        # Same key and name: caBundles shipped earlier (shoots not reconciled since) keep verifying the
        # new serving certificate until the old CA certificate expires; the bundle carries both.
        ca_cert, ca_key = new_ca(common_name, now, ca_validity, bundle.ca_key)
        return Bundle(ca_cert, ca_key, *issue(ca_cert, ca_key, hosts, now, validity), bundle.ca_cert)
    if bundle is None or reason.startswith("unreadable"):
        return new_bundle(common_name, hosts, now, ca_validity, validity)
    return Bundle(bundle.ca_cert, bundle.ca_key, *issue(bundle.ca_cert, bundle.ca_key, hosts, now, validity),
                  bundle.previous_ca)
