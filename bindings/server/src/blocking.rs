//! Engine calls off the async workers. The SQLite store runs each operation on the calling
//! thread, so every call goes to tokio's blocking pool: a slow disk or a long cleanup never
//! stalls the threads that accept and answer other requests.

use std::future::Future;
use std::sync::Arc;

use sessionkit::SessionManager;

use crate::error::ApiError;

/// Runs `f` against the manager on the blocking pool and waits for it.
pub async fn call<T, F, Fut>(manager: &Arc<SessionManager>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(Arc<SessionManager>) -> Fut + Send + 'static,
    Fut: Future<Output = sessionkit::Result<T>>,
{
    let manager = Arc::clone(manager);
    match tokio::task::spawn_blocking(move || pollster::block_on(f(manager))).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::internal("the engine call did not finish")),
    }
}
