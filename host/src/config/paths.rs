//! Paths written in the configuration file are read relative to the file's own folder, never to
//! the working directory: the same file means the same plugins, model and state whichever folder
//! otai is started in (a service, cron, a shell in the wrong place), and nobody who can write a
//! folder otai happens to start in can slip a plugin or a model into it. Defaults that the file
//! does not write (`plugins`, `models/banking77`, `.otai/...`) and command-line flags keep meaning
//! the working directory's, as command-line paths do everywhere.
//!
//! Older otai read relative paths in the file from the working directory. A file written for
//! that (run from the repository root with `config/x.yml` saying `plugins_dir: plugins`) would
//! now point into `config/`; [`ConfigPaths::resolve`] notices when the new place is missing and
//! the old one exists, and reports it as a problem naming both, rather than silently loading
//! nothing, another model or a fresh retry state.

use std::path::{Path, PathBuf};

use super::Problem;

/// Resolves the paths of one configuration file.
#[derive(Debug, Clone)]
pub struct ConfigPaths {
    /// The folder of the configuration file, absolute.
    folder: PathBuf,
}

impl ConfigPaths {
    /// For the configuration file at `file` (relative paths are the working directory's).
    pub fn new(file: &Path) -> Self {
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let folder = match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self { folder }
    }

    /// The folder relative paths are read from.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// `written` (the value of `key`) as a path: absolute as written, relative from the file's
    /// folder. A relative path whose new place is missing while the working directory has it
    /// (where older otai looked) is a problem naming both.
    pub fn resolve(&self, key: &str, written: &str) -> Result<PathBuf, Problem> {
        let path = Path::new(written);
        if path.is_absolute() {
            return Ok(path.to_path_buf());
        }
        let resolved = self.folder.join(path);
        match moved(key, written, &resolved) {
            Some(problem) => Err(problem),
            None => Ok(resolved),
        }
    }
}

/// The problem for a relative path that only the working directory has.
fn moved(key: &str, written: &str, resolved: &Path) -> Option<Problem> {
    let old = std::path::absolute(written).ok()?;
    if resolved.exists() || !old.exists() || same_place(&old, resolved) {
        return None;
    }
    Some(Problem::new(
        key,
        format!(
            "`{written}` is read relative to the configuration file's folder: {} does not exist. \
             {} (relative to the working directory, where earlier versions of otai looked) does: write \
             its absolute path `{}`, or a path relative to the file's folder",
            resolved.display(),
            old.display(),
            old.display(),
        ),
    ))
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_read_from_the_files_folder_and_absolute_ones_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::new(&dir.path().join("etc/otai.yml"));
        assert_eq!(
            paths.resolve("plugins_dir", "plugins").unwrap(),
            dir.path().join("etc/plugins")
        );
        assert_eq!(
            paths.resolve("plugins_dir", "/usr/lib/otai").unwrap(),
            PathBuf::from("/usr/lib/otai")
        );
    }

    #[test]
    fn a_file_given_by_a_bare_name_is_in_the_working_directory() {
        let paths = ConfigPaths::new(Path::new("otai.yml"));
        assert_eq!(paths.folder(), std::env::current_dir().unwrap());
    }

    #[test]
    fn a_path_only_the_working_directory_has_is_reported_with_both_places() {
        // The working directory of `cargo test` is the crate's folder, which has `src`; a
        // configuration file in a temporary folder does not.
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::new(&dir.path().join("otai.yml"));
        let text = paths
            .resolve("pipelines.p.model", "src")
            .unwrap_err()
            .to_string();
        assert!(text.starts_with("pipelines.p.model: "), "{text}");
        assert!(
            text.contains(&dir.path().join("src").display().to_string()),
            "{text}"
        );
        let old = std::env::current_dir().unwrap().join("src");
        assert!(text.contains(&format!("`{}`", old.display())), "{text}");

        // Once the file's folder has it, the working directory's copy does not matter.
        std::fs::create_dir(dir.path().join("src")).unwrap();
        assert_eq!(
            paths.resolve("pipelines.p.model", "src").unwrap(),
            dir.path().join("src")
        );
    }
}
