//! Whether a plugin file may be loaded at all: loading runs its code (library constructors run before
//! any ABI check) with otai's privileges, so a file someone else could have written is refused.
//!
//! A plugin file, the file a symlink points to, the folder that file is in, and the plugins directory
//! must each be owned by root or by the user otai runs as, and writable by nobody else (no group or
//! other write bit). Refusals name the path and say how to fix it. An operator who knows better (a
//! shared development box) opts out with `OTAI_ALLOW_UNTRUSTED_PLUGINS=1`; every plugin that loads is
//! logged with its sha256 either way, so what ran can be checked afterwards.

use std::{io::Read as _, path::Path};

use sha2::{Digest as _, Sha256};

/// The environment variable that turns the ownership and mode checks off.
pub const ALLOW_UNTRUSTED: &str = "OTAI_ALLOW_UNTRUSTED_PLUGINS";

/// Whether the operator turned the checks off.
pub fn checks_disabled() -> bool {
    std::env::var(ALLOW_UNTRUSTED).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Why a path may not be trusted, or `None`: the path itself (not following a symlink), its owner
/// and mode.
pub fn untrusted(path: &Path) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => return Some(format!("cannot read its owner and mode: {e}")),
    };
    check(path, meta.mode_and_owner())
}

/// Why a plugin file may not be loaded (the file, a symlink's target, the target's folder), or `None`.
pub fn untrusted_plugin(path: &Path) -> Option<String> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) => return Some(format!("cannot resolve it: {e}")),
    };
    let mut reasons = Vec::new();
    if is_symlink(path) {
        // A link may sit in a well-kept folder and point anywhere: the target is what gets loaded.
        if let Some(r) = untrusted(&real) {
            reasons.push(format!("its target {}: {r}", real.display()));
        }
    } else if let Some(r) = untrusted(path) {
        reasons.push(r);
    }
    if let Some(dir) = real.parent() {
        if let Some(r) = untrusted(dir) {
            reasons.push(format!("its folder {}: {r}", dir.display()));
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The sha256 of a file, as lowercase hex.
pub fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A file's permission bits and owner.
trait ModeAndOwner {
    fn mode_and_owner(&self) -> Option<(u32, u32)>;
}

impl ModeAndOwner for std::fs::Metadata {
    #[cfg(unix)]
    fn mode_and_owner(&self) -> Option<(u32, u32)> {
        use std::os::unix::fs::MetadataExt as _;
        Some((self.mode(), self.uid()))
    }

    #[cfg(not(unix))]
    fn mode_and_owner(&self) -> Option<(u32, u32)> {
        None
    }
}

fn check(path: &Path, mode_and_owner: Option<(u32, u32)>) -> Option<String> {
    let (mode, owner) = mode_and_owner?;
    let me = current_uid();
    if mode & 0o022 != 0 {
        return Some(format!(
            "writable by {} (mode {:o}): anyone who can write it can run code as otai; `chmod go-w {}`",
            if mode & 0o002 != 0 { "everyone" } else { "its group" },
            mode & 0o7777,
            path.display()
        ));
    }
    if owner != 0 && Some(owner) != me {
        return Some(format!(
            "owned by user {owner}, who is neither root nor the user otai runs as ({}); `chown` it to one of them",
            me.map_or_else(|| "unknown".to_string(), |u| u.to_string())
        ));
    }
    None
}

/// The effective user id, from `/proc/self/status` (Linux); `None` where it cannot be read.
fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    // Real, effective, saved, filesystem.
    line.split_whitespace().nth(2)?.parse().ok()
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// For messages: a path as given and, if it is a link, where it leads.
pub fn describe(path: &Path) -> String {
    match std::fs::canonicalize(path) {
        Ok(real) if is_symlink(path) => format!("{} -> {}", path.display(), real.display()),
        _ => path.display().to_string(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::{os::unix::fs::PermissionsExt as _, path::PathBuf};

    use super::*;

    fn file_with_mode(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, b"\x7fELF not really").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn group_or_world_writable_files_and_folders_are_untrusted() {
        let dir = tempfile::TempDir::new().unwrap();
        let ok = file_with_mode(dir.path(), "ok.so", 0o644);
        let group = file_with_mode(dir.path(), "group.so", 0o664);
        let world = file_with_mode(dir.path(), "world.so", 0o646);

        assert_eq!(untrusted_plugin(&ok), None);
        assert!(untrusted_plugin(&group)
            .unwrap()
            .contains("writable by its group (mode 664)"));
        assert!(untrusted_plugin(&world)
            .unwrap()
            .contains("writable by everyone"));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let reason = untrusted_plugin(&ok).unwrap();
        assert!(
            reason.contains("its folder") && reason.contains("writable by everyone"),
            "{reason}"
        );
    }

    #[test]
    fn a_symlink_is_judged_by_its_target() {
        let dir = tempfile::TempDir::new().unwrap();
        let target = file_with_mode(dir.path(), "real.so", 0o666);
        let link = dir.path().join("link.so");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let reason = untrusted_plugin(&link).unwrap();

        assert!(
            reason.contains("its target") && reason.contains("real.so"),
            "{reason}"
        );
        assert!(describe(&link).contains(" -> "), "{}", describe(&link));
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_hex(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
