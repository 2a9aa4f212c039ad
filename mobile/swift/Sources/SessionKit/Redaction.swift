// Hand-written beside the generated bindings: `Created` already prints `token=<redacted>` through
// `description` and `debugDescription` (both come from the Rust side); this makes `dump()`,
// `Mirror(reflecting:)` and playgrounds, which walk a value's stored properties, leave the token
// out too. Only reading `.token` gives it.

extension Created: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["session": session, "token": "<redacted>"], displayStyle: .struct)
    }
}
