//! `ManualClockCore`: the engine's [`sessionkit::ManualClock`] for JavaScript tests, so expiry is
//! testable without sleeping. The npm package wraps it as `ManualClock`.

use wasm_bindgen::prelude::*;

use crate::convert;
use crate::error::to_js;

/// A clock that only moves when told to. Managers opened with it share its time.
#[wasm_bindgen]
pub struct ManualClockCore {
    clock: sessionkit::ManualClock,
}

#[wasm_bindgen]
impl ManualClockCore {
    /// A clock reading `start_ms` (a safe integer of milliseconds since the epoch).
    #[wasm_bindgen(constructor)]
    pub fn new(start_ms: JsValue) -> Result<ManualClockCore, JsValue> {
        let start = convert::millis(&start_ms, "start_ms").map_err(|e| to_js(&e))?;
        Ok(ManualClockCore {
            clock: sessionkit::ManualClock::new(start),
        })
    }

    /// Moves the clock by `ms` (negative moves it back) and returns the new time.
    pub fn advance(&self, ms: JsValue) -> Result<f64, JsValue> {
        let ms = convert::millis(&ms, "ms").map_err(|e| to_js(&e))?;
        Ok(self.clock.advance(ms) as f64)
    }

    /// Sets the clock to `now_ms`.
    pub fn set(&self, now_ms: JsValue) -> Result<(), JsValue> {
        let now = convert::millis(&now_ms, "now_ms").map_err(|e| to_js(&e))?;
        self.clock.set(now);
        Ok(())
    }

    /// Another handle on this clock (same time), to hand to a manager, which takes ownership.
    pub fn share(&self) -> ManualClockCore {
        ManualClockCore {
            clock: self.clock.clone(),
        }
    }

    /// The clock's current time in milliseconds.
    #[wasm_bindgen(getter = nowMs)]
    pub fn now_ms(&self) -> f64 {
        sessionkit::Clock::now_ms(&self.clock) as f64
    }
}

impl ManualClockCore {
    /// The engine's clock inside.
    pub(crate) fn into_clock(self) -> sessionkit::ManualClock {
        self.clock
    }
}
