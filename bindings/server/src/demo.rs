//! The demo (`sessionkit serve --demo`): a page at `/`, its script, a demo-only sign-in route,
//! and the built npm package the page runs on (`SessionClient`, SPEC §9) under `/demo/pkg/`.
//! Anyone can sign in as anyone here; it exists to show sessions, devices, events and state in a
//! browser.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sessionkit::{ClientKind, NewSession};

use crate::blocking::call;
use crate::client::CreatedBody;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::Server;

const PAGE: &str = include_str!("demo/index.html");
const SCRIPT: &str = include_str!("demo/app.js");
/// Where the page says the missing-package notice goes.
const NOTICE_SLOT: &str = "<!-- package-notice -->";
/// The page's body tag, given the server's heartbeat period.
const BODY_TAG: &str = "<body data-ready=\"false\">";
/// The files of the package the page needs: they must all be there.
const PACKAGE_FILES: [&str; 4] = [
    "src/browser.js",
    "src/client.js",
    "dist/wasm/sessionkit_wasm.js",
    "dist/wasm/sessionkit_wasm_bg.wasm",
];

pub(crate) fn routes() -> Router<Server> {
    Router::new()
        .route("/", get(page))
        .route("/demo/app.js", get(script))
        .route("/demo/pkg/{*path}", get(package_file))
        .route("/demo/sign-in", post(sign_in))
}

/// Why the demo page cannot run with `package` (none given, or not built), as a plain sentence
/// saying how to fix it; `None` when the built package is there.
pub fn demo_package_problem(package: Option<&Path>) -> Option<String> {
    const HOW: &str = "run `scripts/demo.sh` in the repository (it builds the npm package in web/ \
                       when missing, then starts this server with --demo-package web), or build \
                       it yourself: `cd web && npm ci && npm run build`, then pass \
                       `--demo-package web`";
    let Some(dir) = package else {
        return Some(format!(
            "the demo page needs the built npm package and no --demo-package was given: {HOW}"
        ));
    };
    let missing: Vec<&str> = PACKAGE_FILES
        .into_iter()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "the demo page needs the built npm package, but {} lacks {}: {HOW}",
        dir.display(),
        missing.join(", ")
    ))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn page(State(server): State<Server>) -> Response {
    let package = server.config().demo_package.clone();
    let problem = tokio::task::spawn_blocking(move || demo_package_problem(package.as_deref()))
        .await
        .unwrap_or_else(|_| Some("the demo package could not be checked".into()));
    // The client's heartbeat watchdog must match the server's stream heartbeat.
    let page = PAGE.replace(
        BODY_TAG,
        &format!(
            "<body data-ready=\"false\" data-heartbeat-ms=\"{}\">",
            server.config().heartbeat_ms
        ),
    );
    let html = match problem {
        None => page,
        Some(problem) => page.replace(
            NOTICE_SLOT,
            &format!(
                "<p id=\"package-missing\" data-testid=\"package-missing\" class=\"notice error\" \
                 role=\"alert\">This demo cannot start: {}.</p>",
                escape_html(&problem)
            ),
        ),
    };
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                 style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; \
                 frame-ancestors 'none'",
            ),
        )],
        Html(html),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        SCRIPT,
    )
        .into_response()
}

/// `path` (below `/demo/pkg/`) as a file of the package and its content type, when it is one
/// the page may load: `src/<name>.js` or `dist/wasm/<name>.{js,wasm}`, every part a plain name
/// (letters, digits, `_`, `-`, `.`; not starting with a dot). Anything else (`..`, absolute or
/// empty parts, other directories or types) is refused, so nothing outside those two
/// directories of the package can be reached.
fn package_path(path: &str) -> Option<(PathBuf, &'static str)> {
    let parts: Vec<&str> = path.split('/').collect();
    let plain = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    if !parts.iter().all(|part| plain(part)) {
        return None;
    }
    let (name, kinds): (&str, &[&str]) = match parts.as_slice() {
        ["src", name] => (name, &["js"]),
        ["dist", "wasm", name] => (name, &["js", "wasm"]),
        _ => return None,
    };
    let extension = name.rsplit_once('.').map(|(_, ext)| ext)?;
    if !kinds.contains(&extension) {
        return None;
    }
    let content_type = match extension {
        "wasm" => "application/wasm",
        _ => "text/javascript; charset=utf-8",
    };
    Some((parts.iter().collect(), content_type))
}

async fn package_file(
    State(server): State<Server>,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, ApiError> {
    let root = server
        .config()
        .demo_package
        .clone()
        .ok_or_else(ApiError::no_route)?;
    let (relative, content_type) = package_path(&path).ok_or_else(ApiError::no_route)?;
    let file = root.join(relative);
    let read = tokio::task::spawn_blocking(move || std::fs::read(file))
        .await
        .map_err(|_| ApiError::internal("the file could not be read"))?;
    match read {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::no_route()),
        Err(_) => Err(ApiError::internal("the file could not be read")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    user_id: String,
    #[serde(default)]
    device: Option<String>,
}

/// Demo only: a session for any name, as an app's backend would create after a real sign-in.
async fn sign_in(
    State(server): State<Server>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignIn>,
) -> Result<Response, ApiError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect::<String>());
    let mut new = NewSession::new(body.user_id, ClientKind::Web);
    new.device = body.device.or_else(|| Some("demo browser".into()));
    new.user_agent = user_agent;
    let created = call(server.engine(), move |m| async move { m.create(new).await }).await?;
    Ok((StatusCode::CREATED, Json(CreatedBody::from(created))).into_response())
}

#[cfg(test)]
mod tests {
    use super::package_path;

    #[test]
    fn only_the_packages_js_and_wasm_files_are_reachable() {
        let ok = |p: &str| package_path(p).map(|(path, ct)| (path.display().to_string(), ct));
        assert_eq!(
            ok("src/browser.js"),
            Some(("src/browser.js".into(), "text/javascript; charset=utf-8"))
        );
        assert_eq!(
            ok("dist/wasm/sessionkit_wasm_bg.wasm"),
            Some((
                "dist/wasm/sessionkit_wasm_bg.wasm".into(),
                "application/wasm"
            ))
        );
        for bad in [
            "../secret.js",
            "src/../../secret.js",
            "src/../src/client.js",
            "src/./client.js",
            "src//client.js",
            "/etc/passwd",
            "src/.hidden.js",
            "src\\..\\client.js",
            "src/a%2e.js",
            "package.json",
            "src/client.ts",
            "src/client",
            "dist/wasm/x.wasm/y.js",
            "node_modules/idb/build/index.js",
            "dist/wasm/sessionkit_wasm_bg.wasm.d.ts",
            "",
        ] {
            assert_eq!(package_path(bad), None, "{bad:?}");
        }
    }
}
