//! Decompression bombs: state blobs whose zstd frame expands (or claims to expand) far past
//! `state_max_bytes` are refused as `Corrupt` before the decoder allocates for them. A global
//! allocator wrapper records the largest single allocation made on the test's thread, so the
//! test fails if the decoder ever reserves memory for what the blob claims.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use sessionkit::{ErrorKind, StateCodec};

struct PeakTracking;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: allocations during thread teardown find the slot gone; they do not matter.
    let _ = PEAK.try_with(|peak| peak.set(peak.get().max(size)));
}

unsafe impl GlobalAlloc for PeakTracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakTracking = PeakTracking;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// A zstd frame of `len` zero bytes, written in 1 MiB pieces (never holding `len` bytes), with
/// the content size in its header when `declare_size`.
fn zeros_frame(len: u64, declare_size: bool) -> Vec<u8> {
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    if declare_size {
        encoder.set_pledged_src_size(Some(len)).unwrap();
    }
    encoder.include_contentsize(declare_size).unwrap();
    let chunk = vec![0u8; MIB as usize];
    for _ in 0..len / MIB {
        encoder.write_all(&chunk).unwrap();
    }
    encoder.finish().unwrap()
}

/// A well-formed blob (valid checksum) with codec zstd, declaring `size` bytes of JSON.
fn blob(size: u64, payload: &[u8]) -> Vec<u8> {
    let mut blob = b"SKST".to_vec();
    blob.push(1);
    blob.push(1);
    blob.extend_from_slice(&size.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&blob);
    crc.update(payload);
    blob.extend_from_slice(&crc.finalize().to_le_bytes());
    blob.extend_from_slice(payload);
    blob
}

/// Decodes with `codec`, returning the error kind and the largest allocation made meanwhile.
fn decode(codec: &StateCodec, blob: &[u8]) -> (Option<ErrorKind>, usize) {
    PEAK.with(|peak| peak.set(0));
    let kind = codec.decode_json(blob).err().map(|e| e.kind());
    (kind, PEAK.with(Cell::get))
}

/// Rewrites the frame content size field of a single-frame payload (4-byte field) to `size`.
fn with_frame_content_size(frame: &[u8], size: u32) -> Vec<u8> {
    let descriptor = frame[4];
    assert_eq!(
        descriptor >> 6,
        2,
        "expected a 4-byte frame content size field"
    );
    let single_segment = descriptor & 0x20 != 0;
    let dict_id_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let at = 5 + usize::from(!single_segment) + dict_id_len;
    let mut out = frame.to_vec();
    out[at..at + 4].copy_from_slice(&size.to_le_bytes());
    out
}

#[test]
fn bombs_are_refused_before_allocating_what_they_claim() {
    let codec = StateCodec::new(10 * 1024, 5 * MIB);
    let bomb = zeros_frame(GIB, true);
    assert!(
        bomb.len() < 1 << 20,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    assert_eq!(
        zstd::zstd_safe::get_frame_content_size(&bomb).unwrap(),
        Some(GIB)
    );
    let small = 64 * 1024;

    // The header is honest: 1 GiB declared, above the 5 MiB limit.
    let (kind, peak) = decode(&codec, &blob(GIB, &bomb));
    assert_eq!(kind, Some(ErrorKind::Corrupt));
    assert!(peak < small, "allocated {peak} bytes for a refused blob");

    // The header claims a small size; the frame says 1 GiB.
    let (kind, peak) = decode(&codec, &blob(1_000, &bomb));
    assert_eq!(kind, Some(ErrorKind::Corrupt));
    assert!(peak < small, "allocated {peak} bytes for a refused blob");

    // A frame without a declared content size, expanding to 1 GiB.
    let unsized_bomb = zeros_frame(GIB, false);
    assert_eq!(
        zstd::zstd_safe::get_frame_content_size(&unsized_bomb).unwrap(),
        None
    );
    let (kind, peak) = decode(&codec, &blob(1_000, &unsized_bomb));
    assert_eq!(kind, Some(ErrorKind::Corrupt));
    assert!(peak < small, "allocated {peak} bytes for a refused blob");

    // The frame lies about its own size (4 MiB, within the limit) and holds 1 GiB: the decoder
    // reserves the 4 MiB allowed and stops there.
    let lying = with_frame_content_size(&bomb, 4 * MIB as u32);
    let (kind, peak) = decode(&codec, &blob(4 * MIB, &lying));
    assert_eq!(kind, Some(ErrorKind::Corrupt));
    assert!(peak <= (4 * MIB) as usize + small, "allocated {peak} bytes");
    // (The tracker does see the decoder's allocations.)
    assert!(peak >= (4 * MIB) as usize, "allocated {peak} bytes");

    // An honest small frame followed by the bomb: the header and first frame agree on 7 bytes.
    let mut two_frames = zstd::bulk::compress(b"[1,2,3]", 1).unwrap();
    two_frames.extend_from_slice(&bomb);
    let (kind, peak) = decode(&codec, &blob(7, &two_frames));
    assert_eq!(kind, Some(ErrorKind::Corrupt));
    assert!(peak < small, "allocated {peak} bytes for a refused blob");

    // Control: the same construction with an honest small frame decodes.
    let honest = zstd::bulk::compress(b"[1,2,3]", 1).unwrap();
    assert_eq!(
        codec.decode_json(&blob(7, &honest)).unwrap().0,
        b"[1,2,3]".to_vec()
    );
}
