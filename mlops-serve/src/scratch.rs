//! Per-thread scratch buffers for the forward pass (feature matrix, layer
//! tiles), kept between calls.
//!
//! Allocated per call, those buffers (256 KiB each for a 1,024-row batch of
//! the inference benchmark's model) went back to the operating system after
//! every batch — glibc trims the heap's top once more than its trim threshold
//! is free — and were page-faulted in again on the next: a 1,024-row batch
//! on one thread ran at 0.51–0.65 M rows/s, and at 0.81–0.82 M with trimming
//! turned off (`MALLOC_TRIM_THRESHOLD_`), against 0.85–0.86 M for the bare
//! forward pass. A library must not change the process's allocator settings,
//! so it keeps its own buffers instead.

use std::cell::RefCell;

/// Most `f32`s a buffer may keep between calls (16 MiB): a thread that once
/// answered a huge batch does not hold its memory forever.
const KEEP_AT_MOST: usize = 4 << 20;

/// Buffers kept per thread at most (a forward pass nests three).
const KEEP_BUFFERS: usize = 4;

/// Values a buffer starts on a 64-byte boundary with: whole cache lines for
/// AVX-512 loads and stores. Heap memory is only 16-byte aligned, and the
/// same kernel ran 20–25 % slower on such tiles.
const ALIGN_VALUES: usize = 64 / std::mem::size_of::<f32>();

thread_local! {
    static BUFFERS: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a buffer of `len` values borrowed from this thread's scratch.
///
/// The values are whatever an earlier user left (zeros when fresh): `f` must
/// write every value before it reads it. Calls nest; each gets its own buffer.
pub(crate) fn with_buffer<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buffer = BUFFERS
        .try_with(|buffers| buffers.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    if buffer.len() < len + ALIGN_VALUES {
        buffer.resize(len + ALIGN_VALUES, 0.0);
    }
    // `align_offset` may decline (usize::MAX); an unaligned start is then
    // only slower.
    let offset = buffer.as_ptr().align_offset(64).min(ALIGN_VALUES);
    let result = f(&mut buffer[offset..offset + len]);
    if buffer.len() <= KEEP_AT_MOST {
        // During thread teardown the scratch may be gone; the buffer is then freed.
        let _ = BUFFERS.try_with(|buffers| {
            let mut buffers = buffers.borrow_mut();
            if buffers.len() < KEEP_BUFFERS {
                buffers.push(buffer);
            }
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_calls_get_distinct_buffers_of_the_asked_length() {
        with_buffer(10, |outer| {
            outer.fill(1.0);
            with_buffer(3, |inner| {
                assert_eq!(inner.len(), 3);
                inner.fill(2.0);
            });
            assert!(outer.iter().all(|&v| v == 1.0));
        });
    }

    #[test]
    fn buffers_start_on_a_cache_line() {
        for len in [1, 100, 1000] {
            with_buffer(len, |b| assert_eq!(b.as_ptr() as usize % 64, 0));
        }
    }

    #[test]
    fn a_buffer_is_reused_and_huge_ones_are_not_kept() {
        let first = with_buffer(100, |b| b.as_ptr() as usize);
        let again = with_buffer(50, |b| b.as_ptr() as usize);
        assert_eq!(first, again);
        let huge = with_buffer(KEEP_AT_MOST + 1, |b| b.len());
        assert_eq!(huge, KEEP_AT_MOST + 1);
        with_buffer(10, |b| assert!(b.len() == 10));
    }
}
