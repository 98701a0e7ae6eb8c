"""The webhook CA and serving certificate: issued for the hosts, trusted through the caBundle, renewed
before expiry (serving certificate alone, or the CA with the old one kept in the bundle)."""

from __future__ import annotations

import asyncio
import datetime
import ssl

import pytest
from cryptography import x509

from controller.webhooks import certs

HOSTS = ["svc.garden.svc", "svc.garden", "127.0.0.1"]
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def later(days: float) -> datetime.datetime:
    return NOW + datetime.timedelta(days=days)


def test_a_fresh_bundle_serves_its_hosts():
    bundle = certs.new_bundle("svc", HOSTS, NOW)
    cert = x509.load_pem_x509_certificate(bundle.cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"svc.garden.svc", "svc.garden"}
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(bundle.ca_cert))
    assert certs.renewal_reason(bundle, HOSTS, NOW) == ""
    assert certs.renew(bundle, "svc", HOSTS, NOW) is None


def test_missing_bundle_is_created():
    assert certs.renewal_reason(None, HOSTS, NOW) == "missing"
    assert certs.renew(None, "svc", HOSTS, NOW) is not None


def test_serving_certificate_is_renewed_before_expiry_with_the_same_ca():
    bundle = certs.new_bundle("svc", HOSTS, NOW)
    assert certs.renew(bundle, "svc", HOSTS, later(200)) is None
    renewed = certs.renew(bundle, "svc", HOSTS, later(300))  # less than a fifth of 365 days left
    assert renewed is not None and renewed.cert != bundle.cert
    assert renewed.ca_cert == bundle.ca_cert and renewed.ca_bundle == bundle.ca_bundle
    assert certs.renewal_reason(renewed, HOSTS, later(300)) == ""


def test_ca_is_renewed_before_expiry_and_old_bundles_stay_valid():
    bundle = certs.new_bundle("svc", HOSTS, NOW)
    renewed = certs.renew(bundle, "svc", HOSTS, later(3 * 365 - 100))
    assert renewed.ca_cert != bundle.ca_cert
    assert renewed.ca_bundle == renewed.ca_cert + bundle.ca_cert
    assert certs.renewal_reason(renewed, HOSTS, later(3 * 365 - 100)) == ""
    old_ca, new_ca = (x509.load_pem_x509_certificate(c) for c in (bundle.ca_cert, renewed.ca_cert))
    assert new_ca.not_valid_after_utc > old_ca.not_valid_after_utc
    # a client that still holds only the old caBundle accepts the new serving certificate
    x509.load_pem_x509_certificate(renewed.cert).verify_directly_issued_by(old_ca)


def test_new_host_names_get_a_new_certificate():
    bundle = certs.new_bundle("svc", HOSTS, NOW)
    assert certs.renewal_reason(bundle, [*HOSTS, "other.example"], NOW) == "host names changed"
    renewed = certs.renew(bundle, "svc", [*HOSTS, "other.example"], NOW)
    assert renewed.ca_cert == bundle.ca_cert and certs.renewal_reason(renewed, [*HOSTS, "other.example"], NOW) == ""


def test_a_serving_certificate_of_another_ca_is_replaced():
    bundle, other = certs.new_bundle("svc", HOSTS, NOW), certs.new_bundle("svc", HOSTS, NOW)
    mixed = certs.Bundle(bundle.ca_cert, bundle.ca_key, other.cert, other.key)
    assert certs.renewal_reason(mixed, HOSTS, NOW).startswith("unreadable")


def test_secret_data_round_trip():
    bundle = certs.renew(certs.new_bundle("svc", HOSTS, NOW), "svc", HOSTS, later(3 * 365 - 100))
    assert certs.Bundle.from_secret_data(bundle.secret_data()) == bundle
    assert certs.Bundle.from_secret_data({"ca.crt": b"x"}) is None


def test_tls_handshake_with_the_ca_bundle_and_reload():
    """A client trusting only the caBundle talks to the server; a reloaded certificate is served to
    the next connection."""
    first = certs.new_bundle("svc", ["127.0.0.1"])
    second = certs.renew(first, "svc", ["127.0.0.1", "localhost"])
    context = first.ssl_context()

    async def serial() -> int:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=context)
        port = server.sockets[0].getsockname()[1]
        client = ssl.create_default_context(cadata=first.ca_bundle.decode())
        serials = []
        for bundle in (None, second):
            if bundle:
                certs.load_into(context, bundle)
            _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
            serials.append(x509.load_der_x509_certificate(
                writer.get_extra_info("ssl_object").getpeercert(binary_form=True)).serial_number)
            writer.close()
        server.close()
        return serials

    served = asyncio.run(serial())
    assert served == [x509.load_pem_x509_certificate(b.cert).serial_number for b in (first, second)]


@pytest.mark.parametrize("hosts", [["127.0.0.1"], ["::1", "a.b"]])
def test_ip_and_dns_hosts(hosts):
    assert certs.renewal_reason(certs.new_bundle("svc", hosts), hosts) == ""


def test_a_client_with_the_bundle_from_before_a_ca_renewal_still_connects():
    """The shoot keeps the caBundle of its last reconcile: after the CA is renewed (same key pair) the
    server's new certificate must still pass TLS verification with the old CA certificate alone."""
    now = datetime.datetime.now(datetime.timezone.utc)
    before = certs.new_bundle("svc", ["127.0.0.1"], now - datetime.timedelta(minutes=9),
                              ca_validity=datetime.timedelta(minutes=10))
    assert certs.renewal_reason(before, ["127.0.0.1"]) == "ca due"
    after = certs.renew(before, "svc", ["127.0.0.1"])

    async def handshake() -> int:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=after.ssl_context())
        client = ssl.create_default_context(cadata=before.ca_cert.decode())  # the old CA certificate only
        _, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1], ssl=client)
        served = x509.load_der_x509_certificate(writer.get_extra_info("ssl_object").getpeercert(binary_form=True))
        writer.close()
        server.close()
        return served.serial_number

    assert asyncio.run(handshake()) == x509.load_pem_x509_certificate(after.cert).serial_number
