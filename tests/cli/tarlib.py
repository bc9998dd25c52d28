"""tarlib.py - layers and image archives built in memory by the CLI tests'
python3 snippets (lib.sh puts tests/cli on PYTHONPATH)."""
import io
import tarfile


def tar_bytes(members, fmt=tarfile.GNU_FORMAT):
    """A tar of regular files: members are (name, data) or (name, data,
    mode) with data bytes; mode defaults to 0644, every mtime is the same,
    so the same members give the same bytes (and digests)."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for name, data, *mode in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            ti.mode = mode[0] if mode else 0o644
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
