//! The demo's package routes over real HTTP on loopback: the built package's files with their
//! content types, nothing else of the directory (no traversal, raw or percent-encoded), and the
//! page's notice when no package is built.

use std::sync::Arc;

use sessionkit::{Config, MemoryStore, SessionManager};
use sessionkit_server::{demo_package_problem, Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN_KEY: &str = "an-admin-key-for-tests-0123456789";

/// A fake built package in a fresh temp dir, with a secret beside it and one inside it that
/// the routes must never serve.
fn package() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let pkg = root.path().join("pkg");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::create_dir_all(pkg.join("dist/wasm")).unwrap();
    std::fs::write(pkg.join("src/browser.js"), "export const x = 1;\n").unwrap();
    std::fs::write(pkg.join("src/client.js"), "export const y = 2;\n").unwrap();
    std::fs::write(pkg.join("dist/wasm/sessionkit_wasm.js"), "// glue\n").unwrap();
    std::fs::write(
        pkg.join("dist/wasm/sessionkit_wasm_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(pkg.join("package.json"), "{\"secret\": \"inside\"}").unwrap();
    std::fs::write(root.path().join("secret.js"), "SECRET-OUTSIDE").unwrap();
    root
}

async fn start(demo_package: Option<std::path::PathBuf>) -> std::net::SocketAddr {
    let manager =
        Arc::new(SessionManager::open(Arc::new(MemoryStore::new()), Config::default()).unwrap());
    let config = ServerConfig {
        demo: true,
        demo_package,
        heartbeat_ms: 1234,
        ..ServerConfig::default()
    };
    let server = Server::new(manager, ADMIN_KEY, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = server.serve(listener, std::future::pending()).await;
    });
    address
}

/// A GET of `target` exactly as written (no client-side normalisation of `..`): the status
/// line's code, the headers (lowercase) and the body.
async fn raw_get(address: std::net::SocketAddr, target: &str) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

#[tokio::test]
async fn the_package_is_served_with_its_content_types_and_nothing_else() {
    let root = package();
    let address = start(Some(root.path().join("pkg"))).await;

    let (status, head, body) = raw_get(address, "/demo/pkg/src/browser.js").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert_eq!(body, b"export const x = 1;\n");
    let (status, head, body) =
        raw_get(address, "/demo/pkg/dist/wasm/sessionkit_wasm_bg.wasm").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert_eq!(body, b"\0asm\x01\0\0\0");

    for target in [
        "/demo/pkg/../secret.js",
        "/demo/pkg/src/../../secret.js",
        "/demo/pkg/src/%2e%2e/%2e%2e/secret.js",
        "/demo/pkg/src%2f..%2f..%2fsecret.js",
        "/demo/pkg/src/..%2f..%2fsecret.js",
        "/demo/pkg/src/..%5c..%5csecret.js",
        "/demo/pkg/package.json",
        "/demo/pkg/src/missing.js",
        "/demo/pkg//etc/passwd",
        "/demo/pkg/%2fetc%2fpasswd",
    ] {
        let (status, _, body) = raw_get(address, target).await;
        assert!(status == 404 || status == 400, "{target}: status {status}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("SECRET") && !body.contains("secret\""),
            "{target}: {body}"
        );
    }
}

#[tokio::test]
async fn the_page_gives_the_heartbeat_and_without_a_package_says_how_to_build_it() {
    let root = package();
    let address = start(Some(root.path().join("pkg"))).await;
    let (status, head, body) = raw_get(address, "/").await;
    assert_eq!(status, 200);
    assert!(head.contains("'wasm-unsafe-eval'"), "{head}");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("data-heartbeat-ms=\"1234\""));
    assert!(!page.contains("package-missing"));
    let (status, head, _) = raw_get(address, "/demo/app.js").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"), "{head}");

    let address = start(None).await;
    let (_, _, body) = raw_get(address, "/").await;
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("id=\"package-missing\""), "{page}");
    assert!(page.contains("scripts/demo.sh"));
    let (status, _, _) = raw_get(address, "/demo/pkg/src/browser.js").await;
    assert_eq!(status, 404);

    // A directory without the build: the notice names what is missing.
    let unbuilt = root.path().join("unbuilt");
    std::fs::create_dir_all(unbuilt.join("src")).unwrap();
    let problem = demo_package_problem(Some(&unbuilt)).unwrap();
    assert!(
        problem.contains("dist/wasm/sessionkit_wasm_bg.wasm"),
        "{problem}"
    );
    assert!(problem.contains("npm run build"), "{problem}");
    assert_eq!(demo_package_problem(Some(&root.path().join("pkg"))), None);
}
