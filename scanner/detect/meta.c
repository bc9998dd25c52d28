/* meta.c - setuid/setgid and world-writable entries, from tar headers. */
#include "meta.h"

#include <string.h>
#include <sys/stat.h>

/* Programs that distributions install setuid/setgid on purpose, at the paths
 * they install them to. Every stock Debian/Ubuntu/Alpine/RHEL image carries
 * some of them; flagging them high would fail every CI job on the base image
 * alone, so they are reported at low (Dockle's "confirm safety" level). Any
 * other setuid file - a copied helper, a chmod u+s in a Dockerfile - is the
 * finding that matters and stays high. */
static const char *const distro_privileged[] = {
    "bin/mount",
    "bin/umount",
    "bin/su",
    "bin/ping",
    "bin/ping6",
    "bin/fusermount",
    "bin/fusermount3",
    "usr/bin/chfn",
    "usr/bin/chsh",
    "usr/bin/gpasswd",
    "usr/bin/mount",
    "usr/bin/newgrp",
    "usr/bin/passwd",
    "usr/bin/su",
    "usr/bin/umount",
    "usr/bin/sudo",
    "usr/bin/sudoedit",
    "usr/bin/pkexec",
    "usr/bin/ping",
    "usr/bin/fusermount",
    "usr/bin/fusermount3",
    "usr/bin/newuidmap",
    "usr/bin/newgidmap",
    "usr/bin/at",
    "usr/bin/crontab",
    "usr/bin/chage",
    "usr/bin/expiry",
    "usr/bin/wall",
    "usr/bin/write",
    "usr/bin/write.ul",
    "usr/bin/bsd-write",
    "usr/bin/ssh-agent",
    "usr/bin/dotlockfile",
    "usr/bin/mlocate",
    "usr/bin/plocate",
    "usr/bin/staprun",
    "usr/bin/locate",
    "usr/sbin/unix_chkpwd",
    "usr/sbin/pam_extrausers_chkpwd",
    "usr/sbin/pam_timestamp_check",
    "usr/sbin/userhelper",
    "usr/sbin/mount.nfs",
    "usr/sbin/mount.cifs",
    "usr/sbin/postdrop",
    "usr/sbin/postqueue",
    "usr/sbin/exim4",
    "sbin/unix_chkpwd",
    "usr/lib/openssh/ssh-keysign",
    "usr/libexec/openssh/ssh-keysign",
    "usr/lib/dbus-1.0/dbus-daemon-launch-helper",
    "usr/libexec/dbus-daemon-launch-helper",
    "usr/lib/policykit-1/polkit-agent-helper-1",
    "usr/lib/polkit-1/polkit-agent-helper-1",
    "usr/lib/eject/dmcrypt-get-device",
    "usr/lib/xorg/Xorg.wrap",
    "usr/libexec/utempter/utempter",
    "usr/lib/x86_64-linux-gnu/utempter/utempter",
    "usr/libexec/pt_chown",
    "usr/lib/pt_chown",
    "usr/sbin/pppd",
    "usr/bin/traceroute6.iputils",
    "usr/bin/arping",
    "usr/bin/clockdiff",
    "bin/bbsuid",
};

static bool distro_expected(const char *path)
{
    for (size_t i = 0;
         i < sizeof(distro_privileged) / sizeof(*distro_privileged); i++)
        if (strcmp(path, distro_privileged[i]) == 0)
            return true;
    return false;
}

static stw_status emit(const char *path, bool is_dir, stw_kind kind,
                       const char *rule, stw_severity sev, uint32_t mode,
                       int64_t uid, int64_t gid, stw_finding_fn fn, void *ctx)
{
    stw_finding f = {
        .path = path,
        .is_dir = is_dir,
        .kind = kind,
        .rule = rule,
        .severity = sev,
        .offset = -1,
        .has_mode = true,
        .mode = mode,
        .uid = uid,
        .gid = gid,
    };
    return fn(ctx, &f);
}

stw_status stw_meta_check(const char *path, uint32_t type, uint32_t mode,
                          int64_t uid, int64_t gid, stw_finding_fn fn,
                          void *ctx)
{
    stw_status st = STW_OK;
    if (type == S_IFREG) {
        /* A setuid file owned by root runs as root for anyone: high. Owned
         * by another user it still escalates to that user: medium. */
        bool expected = distro_expected(path);
        if (mode & S_ISUID)
            st = emit(path, false, STW_KIND_SETUID, "setuid-file",
                      expected   ? STW_SEV_LOW
                      : uid == 0 ? STW_SEV_HIGH
                                 : STW_SEV_MEDIUM,
                      mode, uid, gid, fn, ctx);
        /* setgid without group-execute is mandatory locking, not privilege. */
        if (st == STW_OK && (mode & S_ISGID) && (mode & S_IXGRP))
            st = emit(path, false, STW_KIND_SETGID, "setgid-file",
                      expected ? STW_SEV_LOW : STW_SEV_MEDIUM, mode, uid, gid,
                      fn, ctx);
        if (st == STW_OK && (mode & S_IWOTH))
            st = emit(path, false, STW_KIND_WORLD_WRITABLE,
                      "world-writable-file", STW_SEV_INFO, mode, uid, gid, fn,
                      ctx);
        return st;
    }
    /* A world-writable directory with the sticky bit (/tmp) is the normal
     * shared scratch space; without it anyone can delete others' files. */
    if (type == S_IFDIR && (mode & S_IWOTH) && !(mode & S_ISVTX))
        st = emit(path, true, STW_KIND_WORLD_WRITABLE, "world-writable-dir",
                  STW_SEV_INFO, mode, uid, gid, fn, ctx);
    return st;
}
