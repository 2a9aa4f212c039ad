//! `ReplicaStoreCore`: the sync client's replica records (docs/SPEC.md §9) in IndexedDB, for the
//! npm package's `SessionClient` in browsers. Records are the engine's replica bytes (JSON text);
//! saves are revision-conditional, so tabs never overwrite a newer record with an older one.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::convert;
use crate::manager::promise;

/// A replica store over one IndexedDB database. Every method returns a Promise.
#[wasm_bindgen]
pub struct ReplicaStoreCore {
    #[cfg(target_arch = "wasm32")]
    store: std::rc::Rc<sessionkit_indexeddb::IndexedDbStore>,
}

#[wasm_bindgen]
impl ReplicaStoreCore {
    /// Opens (creating or upgrading) the IndexedDB database `name`.
    #[wasm_bindgen(js_name = openIndexedDb)]
    pub fn open_indexed_db(name: JsValue) -> Promise {
        let name = convert::text(&name, "name");
        promise(async move {
            let name = name?;
            #[cfg(target_arch = "wasm32")]
            {
                let store = sessionkit_indexeddb::IndexedDbStore::open(&name).await?;
                Ok(JsValue::from(ReplicaStoreCore {
                    store: std::rc::Rc::new(store),
                }))
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = name;
                Err(sessionkit::Error::storage(
                    "IndexedDB is only available in the wasm32 build",
                ))
            }
        })
    }

    /// The record saved under `key`: `{revision, record}`, or null.
    pub fn load(&self, key: JsValue) -> Promise {
        let key = convert::text(&key, "key");
        #[cfg(target_arch = "wasm32")]
        let store = std::rc::Rc::clone(&self.store);
        promise(async move {
            let key = key?;
            #[cfg(target_arch = "wasm32")]
            {
                use sessionkit::ReplicaStore;
                let Some((revision, bytes)) = store.load_replica(&key).await? else {
                    return Ok(JsValue::NULL);
                };
                let record = String::from_utf8(bytes)
                    .map_err(|_| sessionkit::Error::corrupt("client replica"))?;
                let object = js_sys::Object::new();
                let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&object, &k.into(), v);
                set("revision", &JsValue::from_f64(revision as f64))
                    .and_then(|_| set("record", &JsValue::from_str(&record)))
                    .map_err(|_| sessionkit::Error::storage("could not build a result"))?;
                Ok(object.into())
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = key;
                Ok(JsValue::NULL)
            }
        })
    }

    /// Saves `record` under `key` at `revision` unless a record of that revision or newer is
    /// stored; resolves with whether it wrote.
    pub fn save(&self, key: JsValue, revision: JsValue, record: JsValue) -> Promise {
        let args = convert::text(&key, "key").and_then(|key| {
            let revision = convert::opt_u64(&revision, "revision")?
                .ok_or_else(|| sessionkit::Error::invalid_input("revision", "is required"))?;
            Ok((key, revision, convert::text(&record, "record")?))
        });
        #[cfg(target_arch = "wasm32")]
        let store = std::rc::Rc::clone(&self.store);
        promise(async move {
            let (key, revision, record) = args?;
            #[cfg(target_arch = "wasm32")]
            {
                use sessionkit::ReplicaStore;
                let wrote = store
                    .save_replica(&key, revision, record.as_bytes())
                    .await?;
                Ok(JsValue::from_bool(wrote))
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = (key, revision, record);
                Ok(JsValue::FALSE)
            }
        })
    }
}
