//! Opening (with schema upgrades) and deleting databases.

use std::cell::RefCell;
use std::rc::Rc;

use sessionkit::{Error, Result};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbVersionChangeEvent};

use crate::error::{thrown, DomError};
use crate::request::Request;
use crate::schema::{self, SCHEMA_VERSION};

/// The global `indexedDB` (window or worker).
pub(crate) fn factory() -> Result<IdbFactory> {
    let global = js_sys::global();
    let value = js_sys::Reflect::get(&global, &JsValue::from_str("indexedDB"))
        .map_err(thrown("look up indexedDB"))?;
    if value.is_undefined() || value.is_null() {
        return Err(Error::storage(
            "IndexedDB is not available in this environment",
        ));
    }
    value
        .dyn_into::<IdbFactory>()
        .map_err(|_| Error::storage("the global indexedDB is not an IDBFactory"))
}

/// Opens `name` at [`SCHEMA_VERSION`], upgrading an older (or new, empty) database step by step.
pub(crate) async fn open_database(name: &str) -> Result<IdbDatabase> {
    let factory = factory()?;
    let open = factory
        .open_with_u32(name, SCHEMA_VERSION)
        .map_err(thrown("open database"))?;

    let upgrade_failure: Rc<RefCell<Option<DomError>>> = Rc::default();
    let on_upgrade = {
        let failure = Rc::clone(&upgrade_failure);
        Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |event: IdbVersionChangeEvent| {
            let Some(request) = event
                .target()
                .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
            else {
                return;
            };
            // Versions are small integers; `old_version` is 0 for a new database.
            let old_version = event.old_version() as u32;
            let applied = request
                .result()
                .and_then(|db| db.dyn_into::<IdbDatabase>())
                .and_then(|db| {
                    let tx = request
                        .transaction()
                        .ok_or_else(|| JsValue::from_str("no upgrade transaction"))?;
                    schema::upgrade(&db, &tx, old_version)
                });
            if let Err(e) = applied {
                *failure.borrow_mut() = Some(DomError::from_js(&e));
                if let Some(tx) = request.transaction() {
                    // Nothing of a failed upgrade is kept; the open then fails with AbortError.
                    let _ = tx.abort();
                }
            }
        })
    };
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = Request::new(open.clone().into()).wait().await;
    open.set_onupgradeneeded(None);
    drop(on_upgrade);

    match outcome {
        Ok(db) => db
            .dyn_into::<IdbDatabase>()
            .map_err(|_| Error::storage("IndexedDB open: result is not a database")),
        Err(e) if e.is("VersionError") => Err(Error::IncompatibleSchema {
            found: stored_version(&factory, name).await?,
            supported: i64::from(SCHEMA_VERSION),
        }),
        Err(e) => {
            let cause = upgrade_failure.borrow_mut().take();
            Err(match cause {
                Some(cause) => cause.storage("schema upgrade"),
                None => e.storage("open database"),
            })
        }
    }
}

/// The version of an existing database, read without changing it: opened at its current
/// version and closed again. Should it have vanished meanwhile, the creation is aborted.
async fn stored_version(factory: &IdbFactory, name: &str) -> Result<i64> {
    let open = factory.open(name).map_err(thrown("open database"))?;
    let on_upgrade =
        Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |event: IdbVersionChangeEvent| {
            if let Some(tx) = event
                .target()
                .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
                .and_then(|request| request.transaction())
            {
                let _ = tx.abort();
            }
        });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = Request::new(open.clone().into()).wait().await;
    open.set_onupgradeneeded(None);
    let db: IdbDatabase = outcome
        .map_err(|e| e.storage("read the database version"))?
        .dyn_into()
        .map_err(|_| Error::storage("IndexedDB open: result is not a database"))?;
    let version = db.version();
    db.close();
    Ok(version as i64)
}

/// Deletes the database `name` (and everything in it). Waits until it is gone: open
/// connections of this crate close themselves when asked (`versionchange`).
pub async fn delete_database(name: &str) -> Result<()> {
    let request = factory()?
        .delete_database(name)
        .map_err(thrown("delete database"))?;
    Request::new(request.into())
        .wait()
        .await
        .map(drop)
        .map_err(|e| e.storage("delete database"))
}
