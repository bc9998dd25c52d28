#!/usr/bin/env python3
"""nested_fixtures.py - a root filesystem whose secrets all sit inside
archives and compressed files, made with the tools that make them in real
images: Info-ZIP's zip (a Spring Boot style fat jar whose nested jars are
stored, a war, a zip in a zip), Python's zipfile (a wheel, a zip written
to a pipe so every member has a data descriptor, a zip64 archive), GNU tar
with gzip (a backup of /etc, npm and yarn package tarballs), gzip and zstd
of single files.

usage: nested_fixtures.py ROOTFS EXPECTED.tsv
       nested_fixtures.py --bombs DIR

Writes the tree under ROOTFS and, to EXPECTED.tsv, one line per planted
secret: the finding's path (the '!/' chain), its rule, and the value's
sha256 (what the report's secret_sha256 must be). Values are minted here,
seeded, with the shape of real credentials (GitHub and npm tokens carry a
valid CRC32); none grants anything.
"""
import gzip
import hashlib
import io
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import zipfile
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AN = string.ascii_letters + string.digits


def b62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def mint(family, seed):
    r = random.Random("stowaway-nested:%s:%d" % (family, seed))

    def rs(alphabet, n):
        return "".join(r.choice(alphabet) for _ in range(n))

    if family in ("ghp", "npm"):
        body = rs(B62, 30)
        return family + "_" + body + b62(zlib.crc32(body.encode()), 6)
    if family == "stripe":
        return "sk_live_" + rs(AN, 99)
    if family == "slack":
        return "xoxb-%s-%s-%s" % (rs(string.digits, 12),
                                  rs(string.digits, 13), rs(AN, 24))
    if family == "aws_id":
        return "AKIA" + rs("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    if family == "glpat":
        return "glpat-" + rs(AN + "-_", 20)
    if family == "dockerhub":
        return "dckr_pat_" + rs(AN + "-_", 27)
    if family == "google":
        return "AIza" + rs(AN + "-_", 35)
    if family == "sendgrid":
        return "SG." + rs(AN + "-_", 22) + "." + rs(AN + "-_", 43)
    raise SystemExit("nested_fixtures: unknown family " + family)


EXPECTED = []


def plant(path, rule, value):
    EXPECTED.append((path, rule, hashlib.sha256(value.encode()).hexdigest()))


def sh(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def fat_jar(root, work):
    """Spring Boot's layout: classes compressed, BOOT-INF/lib/*.jar stored
    (zip -0) so the launcher can map them, a manifest first."""
    src = os.path.join(work, "boot")
    pw = "Xk9mQ2vLp7zR4wTe"
    write(os.path.join(src, "META-INF/MANIFEST.MF"),
          "Manifest-Version: 1.0\nMain-Class: "
          "org.springframework.boot.loader.JarLauncher\n")
    write(os.path.join(src, "BOOT-INF/classes/application.properties"),
          "spring.datasource.url=jdbc:postgresql://db:5432/orders\n"
          "spring.datasource.username=orders\n"
          "spring.datasource.password=%s\n" % pw)
    plant("app/app.jar!/BOOT-INF/classes/application.properties",
          "generic-password-unquoted", pw)
    lib = os.path.join(work, "client")
    sk = mint("stripe", 1)
    write(os.path.join(lib, "client.properties"), "stripe.api-key=%s\n" % sk)
    write(os.path.join(lib, "com/acme/Client.class"), "\xca\xfe\xba\xbe")
    # Real jars are large: past the size from which archives are cached.
    rnd = random.Random("stowaway-nested:class")
    big = os.path.join(work, "bigres")
    write(os.path.join(big, "BOOT-INF/resources/orders.bin"),
          bytes(rnd.getrandbits(8) for _ in range(96 << 10)), "wb")
    os.makedirs(os.path.join(src, "BOOT-INF/lib"), exist_ok=True)
    sh("zip", "-qr", os.path.join(src, "BOOT-INF/lib/payments-client.jar"),
       ".", cwd=lib)
    plant("app/app.jar!/BOOT-INF/lib/payments-client.jar!/client.properties",
          "stripe-secret-key", sk)
    jar = os.path.join(root, "app/app.jar")
    os.makedirs(os.path.dirname(jar), exist_ok=True)
    sh("zip", "-q", jar, "META-INF/MANIFEST.MF", cwd=src)
    sh("zip", "-qr", jar, "BOOT-INF/classes", cwd=src)
    sh("zip", "-q0r", jar, "BOOT-INF/lib", cwd=src)
    sh("zip", "-qr", jar, "BOOT-INF/resources", cwd=big)


def war(root, work):
    src = os.path.join(work, "war")
    key = mint("aws_id", 1)
    write(os.path.join(src, "WEB-INF/web.xml"), "<web-app/>\n")
    write(os.path.join(src, "WEB-INF/classes/aws.properties"),
          "aws.accessKeyId=%s\n" % key)
    plant("srv/tomcat/webapps/ROOT.war!/WEB-INF/classes/aws.properties",
          "aws-access-key-id", key)
    out = os.path.join(root, "srv/tomcat/webapps/ROOT.war")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sh("zip", "-qr", out, "WEB-INF", cwd=src)


def wheel(root, work):
    """A wheel in pip's cache, written by Python's zipfile."""
    tok = mint("slack", 1)
    d = os.path.join(root, "root/.cache/pip/wheels/3c/9a")
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(d, "acme_tools-1.0-py3-none-any.whl"),
                         "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("acme_tools/__init__.py", "")
        z.writestr("acme_tools/settings.py",
                   'SLACK_BOT_TOKEN = "%s"\n' % tok)
        z.writestr("acme_tools-1.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: acme-tools\n")
    plant("root/.cache/pip/wheels/3c/9a/acme_tools-1.0-py3-none-any.whl"
          "!/acme_tools/settings.py", "slack-bot-token", tok)


def package_tgz(work, name, files):
    """An npm package tarball: package/ at the top, made by GNU tar + gzip."""
    src = os.path.join(work, name)
    for rel, text in files.items():
        write(os.path.join(src, "package", rel), text)
    out = os.path.join(work, name + ".tgz")
    sh("tar", "-czf", out, "--owner=0", "--group=0", "package", cwd=src)
    return out


def npm_cache(root, work):
    tok = mint("npm", 1)
    tgz = package_tgz(work, "internal-sdk", {
        "package.json": '{"name": "@acme/internal-sdk", "version": "2.0.0"}\n',
        ".npmrc": "//registry.npmjs.org/:_authToken=%s\n" % tok,
    })
    data = open(tgz, "rb").read()
    h = hashlib.sha512(data).hexdigest()
    rel = "root/.npm/_cacache/content-v2/sha512/%s/%s/%s" % (h[:2], h[2:4],
                                                             h[4:])
    os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    shutil.copy(tgz, os.path.join(root, rel))
    plant(rel + "!/package/.npmrc", "npm-token", tok)


def yarn_mirror(root, work):
    tok = mint("glpat", 1)
    tgz = package_tgz(work, "deploy-tools", {
        "package.json": '{"name": "deploy-tools", "version": "1.3.0"}\n',
        "lib/config.js": 'module.exports = { gitlabToken: "%s" };\n' % tok,
    })
    out = os.path.join(root, "app/npm-packages-offline-cache/"
                       "deploy-tools-1.3.0.tgz")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    shutil.copy(tgz, out)
    plant("app/npm-packages-offline-cache/deploy-tools-1.3.0.tgz"
          "!/package/lib/config.js", "gitlab-pat", tok)


def backup(root, work, key_file):
    """tar.gz of /etc with an SSH host key; a later layer deletes it."""
    src = os.path.join(work, "etcbackup")
    os.makedirs(os.path.join(src, "etc/ssh"), exist_ok=True)
    shutil.copy(key_file, os.path.join(src, "etc/ssh/ssh_host_ed25519_key"))
    write(os.path.join(src, "etc/hostname"), "db1\n")
    # An anchored path rule (^etc/shadow$) fires inside the archive only
    # because path rules see the member's own path.
    r = random.Random("stowaway-nested:shadow")
    crypt = "$6$" + "".join(r.choice(AN) for _ in range(16)) + "$" + \
        "".join(r.choice(AN + "./") for _ in range(86))
    write(os.path.join(src, "etc/shadow"),
          "root:%s:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n" % crypt)
    plant("opt/backup.tar.gz!/etc/shadow", "shadow-password-hash", crypt)
    out = os.path.join(root, "opt/backup.tar.gz")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sh("tar", "-czf", out, "--owner=0", "--group=0", "etc", cwd=src)
    EXPECTED.append(("opt/backup.tar.gz!/etc/ssh/ssh_host_ed25519_key",
                     "openssh-private-key", "-"))


def zip_in_zip(root, work):
    tok = mint("ghp", 1)
    src = os.path.join(work, "bundle")
    write(os.path.join(src, "config/payments.yml"),
          "github:\n  token: %s\n" % tok)
    write(os.path.join(src, "config/readme.txt"), "settings\n")
    inner = os.path.join(work, "config-bundle.zip")
    sh("zip", "-qr", inner, "config", cwd=src)
    out = os.path.join(root, "opt/bundle.zip")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sh("zip", "-qj", out, inner)
    plant("opt/bundle.zip!/config-bundle.zip!/config/payments.yml",
          "github-pat", tok)


class Pipe(io.RawIOBase):
    """A write-only stream that cannot seek, as a pipe: zipfile then writes
    every member with a data descriptor (sizes after the data)."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def data_descriptor_zip(root):
    tok = mint("dockerhub", 1)
    out = os.path.join(root, "opt/stream.zip")
    with open(out, "wb") as f:
        with zipfile.ZipFile(Pipe(f), "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("creds/notes.txt", "deploy notes\n" * 50)
            z.writestr("creds/deploy.env", "DOCKERHUB_TOKEN=%s\n" % tok)
    with open(out, "rb") as f:
        data = f.read()
    # General purpose flag bit 3 (data descriptor) on the first local header.
    assert data[:4] == b"PK\x03\x04" and data[6] & 8, "no data descriptor"
    plant("opt/stream.zip!/creds/deploy.env", "dockerhub-pat", tok)


def zip64(root):
    tok = mint("ghp", 2)
    out = os.path.join(root, "opt/archive64.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                         allowZip64=True) as z:
        with z.open("secrets/token.txt", "w", force_zip64=True) as m:
            m.write(("GH_TOKEN=%s\n" % tok).encode())
    with open(out, "rb") as f:
        data = f.read()
    assert b"PK\x06\x06" in data or b"\x01\x00\x10\x00" in data, "not zip64"
    plant("opt/archive64.zip!/secrets/token.txt", "github-pat", tok)


def single_streams(root, work):
    key = mint("google", 1)
    log = os.path.join(work, "app.log")
    write(log, "started\nmaps key=%s\n" % key)
    sh("gzip", "-9", log)
    dst = os.path.join(root, "var/log/app/app.log.1.gz")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.move(log + ".gz", dst)
    plant("var/log/app/app.log.1.gz!/app.log.1", "google-api-key", key)
    sg = mint("sendgrid", 1)
    env = os.path.join(work, "mail.env")
    write(env, "SENDGRID_API_KEY=%s\n" % sg)
    sh("zstd", "-q", "--rm", env)
    dst = os.path.join(root, "etc/mail/mail.env.zst")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.move(env + ".zst", dst)
    plant("etc/mail/mail.env.zst!/mail.env", "sendgrid-api-key", sg)


def clean_archives(root, work):
    """Archives with nothing to find: a zip of text, a gzip of a tar."""
    src = os.path.join(work, "docs")
    write(os.path.join(src, "guide/index.html"), "<p>Install, then run.</p>\n")
    out = os.path.join(root, "usr/share/doc/acme/guide.zip")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sh("zip", "-qr", out, "guide", cwd=src)
    with gzip.open(os.path.join(root, "usr/share/doc/acme/changelog.gz"),
                   "wt") as f:
        f.write("acme (1.0) stable; urgency=low\n\n  * First release.\n")


def zip_of_zips(path, levels, copies, zeros):
    """42.zip's shape: a file of zeros, deflated, then zips of copies of the
    level below, each deflated again (deflate of deflated zeros still
    shrinks). Expanded whole: copies**levels * zeros bytes."""
    data = None
    for level in range(levels + 1):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            if level == 0:
                with z.open("zeros.bin", "w", force_zip64=True) as m:
                    block = bytes(1 << 20)
                    for _ in range(zeros >> 20):
                        m.write(block)
            else:
                for i in range(copies):
                    z.writestr("lib%d.zip" % i, data)
        data = buf.getvalue()
    with open(path, "wb") as f:
        f.write(data)


def overlapping_zip(path, entries, zeros):
    """Fifield's non-recursive bomb: one deflated kernel, and a central
    directory whose every entry points at that same local header, so each
    entry inflates the kernel again. zipfile cannot write it: the headers
    are laid out here (the scanner under test has no zip code of its own;
    libarchive reads this)."""
    import struct
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = c.compress(bytes(zeros)) + c.flush()
    crc = zlib.crc32(bytes(zeros))
    name = b"k"
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, crc,
                        len(kernel), zeros, len(name), 0) + name
    cd = b""
    for i in range(entries):
        n = b"f%05d" % i
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0,
                          0, crc, len(kernel), zeros, len(n), 0, 0, 0, 0, 0,
                          0) + n
    off = len(local) + len(kernel)
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, entries, entries,
                       len(cd), off, 0)
    with open(path, "wb") as f:
        f.write(local + kernel + cd + eocd)


def bombs(d):
    os.makedirs(d, exist_ok=True)
    zip_of_zips(os.path.join(d, "deep42.zip"), 4, 16, 64 << 20)
    overlapping_zip(os.path.join(d, "overlap.zip"), 4000, 16 << 20)


def main():
    if sys.argv[1] == "--bombs":
        bombs(sys.argv[2])
        return
    root, expected = os.path.abspath(sys.argv[1]), sys.argv[2]
    key_file = os.path.join(os.environ["SRCDIR"], "fixtures/keys/openssh_ed25519")
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        fat_jar(root, work)
        war(root, work)
        wheel(root, work)
        npm_cache(root, work)
        yarn_mirror(root, work)
        backup(root, work, key_file)
        zip_in_zip(root, work)
        data_descriptor_zip(root)
        zip64(root)
        single_streams(root, work)
        clean_archives(root, work)
    with open(expected, "w") as f:
        for row in EXPECTED:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
