"""Certificates for the TLS integration tests, made per run with the openssl CLI: a root CA, an
intermediate CA, and leaves (ECDSA P-256 or RSA 2048) whose PEM files hold leaf + intermediate."""
import os
import ssl

from ebbtest import run


def _openssl(*args, cwd):
    r = run(["openssl", *args], cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


def make_pki(d):
    """Returns {"dir", "root", "site", "site_v2", "wild"}; each leaf is a (cert, key) path pair:
    site / site_v2: ECDSA, example.com + www.example.com (CN "example.com" / "example.com v2");
    wild: RSA, *.example.org."""
    (d / "ext_ca").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=ebb test root", "-days", "30",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "int.key", "-out", "int.csr", "-subj", "/CN=ebb test intermediate", cwd=d)
    _openssl("x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key",
             "-CAcreateserial", "-out", "int.pem", "-days", "30", "-extfile", "ext_ca", cwd=d)

    def leaf(name, keyspec, cn, sans):
        (d / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName="
            + ",".join(f"DNS:{s}" for s in sans) + "\n")
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if keyspec == "ec" \
            else ["-newkey", "rsa:2048"]
        _openssl("req", "-new", *newkey, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "int.pem", "-CAkey", "int.key",
                 "-CAcreateserial", "-out", f"{name}.leaf", "-days", "30", "-extfile", f"{name}.ext", cwd=d)
        (d / f"{name}.pem").write_text((d / f"{name}.leaf").read_text() + (d / "int.pem").read_text())
        os.chmod(d / f"{name}.key", 0o600)
        return str(d / f"{name}.pem"), str(d / f"{name}.key")

    return {
        "dir": d,
        "root": str(d / "root.pem"),
        "site": leaf("site", "ec", "example.com", ["example.com", "www.example.com"]),
        "site_v2": leaf("site_v2", "ec", "example.com v2", ["example.com", "www.example.com"]),
        "wild": leaf("wild", "rsa", "wildcard example.org", ["*.example.org"]),
    }


def client_ctx(pki, check_hostname=True, max_version=None):
    """A client context trusting `pki`'s root, offering h2 and http/1.1 by ALPN."""
    ctx = ssl.create_default_context(cafile=pki["root"])
    ctx.check_hostname = check_hostname
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    if max_version:
        ctx.maximum_version = max_version
    return ctx
