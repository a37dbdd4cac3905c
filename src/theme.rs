//! Themes: a folder `themes/<name>/` with `templates/` (minijinja, loaded at
//! run time and reloaded when edited) and `static/` (CSS, JS, images). A
//! site's theme folder may hold only the files it changes: every template
//! and asset it lacks comes from the default theme built into the binary.
//! User text is auto-escaped; templates run with a fuel budget.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use minijinja::Environment;
use serde::Serialize;

use crate::content::scan::read_under;

pub struct Theme {
    env: Environment<'static>,
    dir: PathBuf,
    versions: Arc<AssetVersions>,
}

/// Each static asset's version (a hash of its bytes), so pages can link
/// `/static/style.css?v=…`: a browser may keep such a URL for good, and an
/// edited asset gets a new URL at once. A file of the site's theme is hashed
/// again only when its modification time or size changes.
struct AssetVersions {
    dir: PathBuf,
    /// By asset path: the site file's modification time and size when it
    /// was hashed (`None`: the built-in file), and its version.
    seen: Mutex<HashMap<String, (Option<FileStamp>, String)>>,
}

type FileStamp = (SystemTime, u64);

impl AssetVersions {
    fn version(&self, path: &str) -> Option<String> {
        if path
            .split(['/', '\\'])
            .any(|part| part == ".." || part.is_empty())
        {
            return None;
        }
        let on_disk = std::fs::metadata(self.dir.join(path))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((stamp, version)) = seen.get(path)
            && *stamp == on_disk
        {
            return Some(version.clone());
        }
        let bytes = match on_disk {
            Some(_) => read_under(&self.dir, path)?,
            None => builtin(STATIC, path)?.to_vec(),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        let version = format!("{:016x}", hasher.finish())[..10].to_string();
        seen.insert(path.to_string(), (on_disk, version.clone()));
        Some(version)
    }
}

/// A template that failed, with what the author needs to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

macro_rules! builtin {
    ($kind:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../themes/default/", $kind, "/", $name)))),*]
    };
}

/// The default theme, compiled in (the files under `themes/default/`).
const TEMPLATES: &[(&str, &[u8])] = builtin!("templates":
    "base.html", "home.html", "search.html", "card.html", "collection.html", "tags.html",
    "tag.html", "sidebar.html", "insights.html", "problems.html", "verification.html", "login.html",
    "404.html", "error.html", "pagination.html", "collections.html", "collection-tiles.html", "too-long.html",
);
const STATIC: &[(&str, &[u8])] = builtin!("static":
    "style.css", "site.js", "theme-init.js", "sidebar.css", "sidebar.js", "favicon.svg",
    "vendor/highlight.js", "vendor/highlight.LICENSE.txt",
    "vendor/front-plugin-sdk.js", "vendor/front-plugin-sdk.LICENSE.txt", "vendor/README.md",
);

fn builtin(files: &'static [(&str, &[u8])], name: &str) -> Option<&'static [u8]> {
    files.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

impl Theme {
    pub fn load(dir: &Path) -> Theme {
        let mut env = Environment::new();
        let site = minijinja::path_loader(dir.join("templates"));
        env.set_loader(move |name| match site(name)? {
            Some(source) => Ok(Some(source)),
            None => Ok(builtin(TEMPLATES, name).map(|bytes| {
                minijinja::TemplateSource::from(String::from_utf8_lossy(bytes).into_owned())
            })),
        });
        env.set_auto_reload(true);
        // Themes are code a team edits: bound what one page render may cost.
        env.set_fuel(Some(5_000_000));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        let versions = Arc::new(AssetVersions {
            dir: dir.join("static"),
            seen: Mutex::new(HashMap::new()),
        });
        let known = versions.clone();
        // `asset('style.css')` in a template: the asset's versioned URL,
        // safe as it is (a theme's own path and a hex version).
        env.add_function("asset", move |path: String| {
            let url = match known.version(&path) {
                Some(v) => format!("/static/{path}?v={v}"),
                None => format!("/static/{path}"),
            };
            minijinja::Value::from_safe_string(crate::search::escape_html(&url))
        });
        Theme {
            env,
            dir: dir.to_path_buf(),
            versions,
        }
    }

    /// The theme's folder (watched for live reload).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A static asset: the site's own file, else the built-in one.
    pub fn static_file(&self, path: &str) -> Option<Vec<u8>> {
        read_under(&self.dir.join("static"), path)
            .or_else(|| builtin(STATIC, path).map(<[u8]>::to_vec))
    }

    /// The current version of a static asset (what `asset()` puts in URLs).
    pub fn asset_version(&self, path: &str) -> Option<String> {
        self.versions.version(path)
    }

    pub fn render<S: Serialize>(&self, name: &str, context: S) -> Result<String, TemplateError> {
        let failed = |e: minijinja::Error| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            TemplateError {
                template: e.name().unwrap_or(name).to_string(),
                line: e.line(),
                message,
            }
        };
        let template = self.env.get_template(name).map_err(failed)?;
        template
            .render(minijinja::value::Serde(context))
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the default theme is compiled in, so a site that
    /// overrides one template still has all the others.
    #[test]
    fn the_builtin_theme_lists_every_file_of_the_default_theme() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
        for (kind, list) in [("templates", TEMPLATES), ("static", STATIC)] {
            for entry in walkdir::WalkDir::new(root.join(kind)) {
                let entry = entry.unwrap();
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(root.join(kind)).unwrap();
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    assert!(
                        builtin(list, &rel).is_some(),
                        "{kind}/{rel} is not in theme.rs"
                    );
                }
            }
        }
    }

    #[test]
    fn a_site_overrides_single_templates_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/error.html"),
            "custom: {{ message }}",
        )
        .unwrap();
        let theme = Theme::load(dir.path());
        let html = theme
            .render("error.html", serde_json::json!({"message": "<b>"}))
            .unwrap();
        assert_eq!(html, "custom: &lt;b&gt;");
        let page = theme
            .render(
                "404.html",
                serde_json::json!({"missing": "x", "query": "x"}),
            )
            .unwrap();
        assert!(page.contains("<html"), "{page}");
        assert!(theme.static_file("style.css").is_some());
        assert!(theme.static_file("../Cargo.toml").is_none());
    }
}
