//! The conformance scenario runner (feature `testing`).
