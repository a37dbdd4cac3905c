//! Themes: a folder `themes/<name>/` with `templates/` (minijinja, loaded at
//! run time and reloaded when edited) and `static/` (CSS, JS, images). User
//! text is auto-escaped; templates run with a fuel budget.

use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde::Serialize;

pub struct Theme {
    env: Environment<'static>,
    dir: PathBuf,
}

/// A template that failed, with what the author needs to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("template {template}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Theme {
    pub fn load(dir: &Path) -> Theme {
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(dir.join("templates")));
        env.set_auto_reload(true);
        // Themes are code a team edits: bound what one page render may cost.
        env.set_fuel(Some(5_000_000));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        Theme {
            env,
            dir: dir.to_path_buf(),
        }
    }

    pub fn static_dir(&self) -> PathBuf {
        self.dir.join("static")
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
