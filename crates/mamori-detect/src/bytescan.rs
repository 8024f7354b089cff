//! Whole-segment byte tests written so that the compiler vectorises them: each one ORs a
//! branch-free predicate over a block of 64 positions and stops at the first block where it
//! holds. They decide, in one cheap pass each, whether a detector or the normaliser has anything
//! to look at, so that their byte-by-byte loops run only on lines that need them.
//!
//! The predicates combine comparisons with `&` and `|` on purpose: lazy `&&` and `||` would put
//! a branch in the loop and stop it from vectorising. `#[inline(always)]` makes sure each
//! predicate is inlined into its loop, for the same reason.
#![allow(clippy::needless_bitwise_bool, clippy::inline_always)]

/// Runs `f` compiled for AVX2 when the processor has it (every x86-64 processor since 2013), and
/// for the baseline x86-64 instruction set (SSE2, 16 bytes per vector) otherwise. The kernels
/// below are `#[inline(always)]`, so they are inlined into `f` and from there into the AVX2
/// function, whose vectors are twice as wide; one binary runs everywhere and uses what it finds.
///
/// This is the crate's one `unsafe` block: calling a `#[target_feature]` function is unsafe
/// because the processor must have the feature, and the line before checks that it does.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn fast<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,bmi1,bmi2,popcnt,lzcnt")]
        fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if has_avx2() {
            // SAFETY: the processor has every feature `with_avx2` is compiled for (`has_avx2`
            // asked it), which is the only requirement of calling it.
            #[allow(unsafe_code)]
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

/// Whether the processor has every feature the AVX2 build of [`fast`] is compiled for. Asked
/// once and remembered in one byte (0: not asked yet, 1: no, 2: yes): `fast` runs several times
/// per line, and five feature tests cost more than the kernel on a short line.
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx2() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static HAS: AtomicU8 = AtomicU8::new(0);
    match HAS.load(Ordering::Relaxed) {
        0 => {
            let yes = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("bmi1")
                && std::arch::is_x86_feature_detected!("bmi2")
                && std::arch::is_x86_feature_detected!("popcnt")
                && std::arch::is_x86_feature_detected!("lzcnt");
            HAS.store(1 + u8::from(yes), Ordering::Relaxed);
            yes
        }
        v => v == 2,
    }
}

/// Positions tested per block: a multiple of every vector width, so that the loop over a block
/// has no scalar remainder.
const BLOCK: usize = 64;

/// Calls `f` on windows of `L = BLOCK + W - 1` bytes starting at 0, `BLOCK`, `2 * BLOCK`…, so
/// that `f` can test the `BLOCK` positions of its window with a `W`-byte predicate; the last
/// window is copied into a zero-padded array. Stops at the first window where `f` is true. The
/// predicates given to the functions below are false on zero bytes, so padding matches nothing.
#[inline(always)]
fn windows<const L: usize>(b: &[u8], mut f: impl FnMut(&[u8; L]) -> bool) -> bool {
    let mut at = 0;
    while let Some(w) = b.get(at..at + L) {
        if f(w.try_into().expect("window of L bytes")) {
            return true;
        }
        at += BLOCK;
    }
    if at >= b.len() {
        return false;
    }
    let mut pad = [0u8; L];
    let rest = &b[at..];
    pad[..rest.len()].copy_from_slice(rest);
    f(&pad)
}

/// Whether `pred` holds for some byte (`pred(0)` must be false).
#[inline(always)]
pub(crate) fn any1(b: &[u8], pred: impl Fn(u8) -> bool) -> bool {
    fast(
        #[inline(always)]
        || windows::<BLOCK>(b, |w| w.iter().fold(false, |acc, &x| acc | pred(x))),
    )
}

/// Whether `pred(b[i], b[i + 1], b[i + 2])` holds for some `i` with `i + 2 < b.len()`: a test
/// for a three-byte UTF-8 character (kana, kanji, full-width forms). `pred` must be false when
/// its second or third byte is zero.
#[inline(always)]
pub(crate) fn any3(b: &[u8], pred: impl Fn(u8, u8, u8) -> bool) -> bool {
    fast(
        #[inline(always)]
        || {
            windows::<{ BLOCK + 2 }>(b, |w| {
                let mut acc = false;
                for i in 0..BLOCK {
                    acc |= pred(w[i], w[i + 1], w[i + 2]);
                }
                acc
            })
        },
    )
}

/// ORs `pred(b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4])` over every position `i` of `b`, the
/// bytes past the end read as zero, and returns the flags; stops after the first block where a
/// flag of `stop` is set. Several tests in one pass: `pred` returns a set of flag bits, each
/// false on a window whose bytes it needs are zero. Unlike a `W`-byte window, positions near the end are
/// all tested (a flag may need fewer than five bytes).
#[inline(always)]
pub(crate) fn flags5(b: &[u8], stop: u8, pred: impl Fn(u8, u8, u8, u8, u8) -> u8) -> u8 {
    fast(
        #[inline(always)]
        || flags5_in(b, stop, pred),
    )
}

#[inline(always)]
fn flags5_in(b: &[u8], stop: u8, pred: impl Fn(u8, u8, u8, u8, u8) -> u8) -> u8 {
    const L: usize = BLOCK + 4;
    let block = |w: &[u8; L]| {
        let mut acc = 0u8;
        for i in 0..BLOCK {
            acc |= pred(w[i], w[i + 1], w[i + 2], w[i + 3], w[i + 4]);
        }
        acc
    };
    let mut acc = 0u8;
    let mut at = 0;
    while at < b.len() {
        acc |= if let Some(w) = b.get(at..at + L) {
            block(w.try_into().expect("window of L bytes"))
        } else {
            let mut pad = [0u8; L];
            pad[..b.len() - at].copy_from_slice(&b[at..]);
            block(&pad)
        };
        if acc & stop != 0 {
            break;
        }
        at += BLOCK;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_avx2_and_baseline_builds_agree() {
        // `fast` runs the AVX2 build on this machine when it can; the `_in` kernels called
        // directly here are the baseline build. Same answers on every length and position.
        let text = "東京都新宿区西新宿２－８－１　山田　太郎様 03-1234-5678 ＡＢＣ ラーメン 1ー2"
            .as_bytes();
        for len in 0..text.len() {
            let b = &text[..len];
            let pred = |p: u8, q: u8, r: u8, y: u8, z: u8| {
                u8::from(p.is_ascii_digit())
                    | (u8::from((p == 0xE3) & (q == 0x83) & (r == 0xBC)) << 1)
                    | (u8::from((p == 0xEF) & (q == 0xBC) & (y >= 0x80) & (z < 0xC0)) << 2)
            };
            assert_eq!(flags5(b, 0, pred), flags5_in(b, 0, pred), "{len}");
            let up = |x: u8| x.wrapping_sub(b'A') < 26;
            assert_eq!(
                any1(b, up),
                windows::<BLOCK>(b, |w| w.iter().fold(false, |a, &x| a | up(x))),
                "{len}"
            );
        }
    }

    #[test]
    fn finds_bytes_and_sequences_anywhere() {
        for len in [0usize, 1, 2, 3, 5, 63, 64, 65, 66, 67, 68, 130, 200] {
            for pos in 0..len {
                let mut v = vec![b'a'; len];
                v[pos] = b'1';
                assert_eq!(flags5(&v, 0, |a, _, _, _, _| u8::from(a == b'1')), 1);
                v[pos] = b'7';
                assert!(any1(&v, |c| c.is_ascii_digit()), "{len} {pos}");
                assert!(!any1(&v, |c| c == b'@'));
            }
            for pos in 0..len.saturating_sub(2) {
                let mut v = vec![b'a'; len];
                v[pos..pos + 3].copy_from_slice("県".as_bytes());
                assert!(any3(&v, |p, q, r| (p == 0xE7) & (q == 0x9C) & (r == 0x8C)));
                assert!(!any3(&v, |p, q, r| (p == 0xE9) & (q == 0x83) & (r == 0xBD)));
            }
            for pos in 1..len.saturating_sub(3) {
                let mut v = vec![b'a'; len];
                v[pos - 1] = b'1';
                v[pos..pos + 3].copy_from_slice("ー".as_bytes());
                v[pos + 3] = b'2';
                let hit = |a: u8, p: u8, q: u8, r: u8, z: u8| {
                    a.is_ascii_digit()
                        & (p == 0xE3)
                        & (q == 0x83)
                        & (r == 0xBC)
                        & z.is_ascii_digit()
                };
                let flags = |a: u8, p: u8, q: u8, r: u8, z: u8| {
                    u8::from(hit(a, p, q, r, z)) | (u8::from(a == b'1') << 1)
                };
                assert_eq!(flags5(&v, 1, flags), 3, "{len} {pos}");
                assert_eq!(flags5(&v, 2, flags) & 2, 2, "{len} {pos}");
                v[pos + 3] = b'x';
                assert_eq!(flags5(&v, 1, flags) & 1, 0, "{len} {pos}");
            }
        }
    }
}
