//! Abuse protection for the three forms of an incident's public page (`/notice/{slug}/check`,
//! `/inquiry`, `/survey`): no login, no third-party service, state in this process only.
//!
//! Every submission goes through [`PublicGuard::screen`], which answers with a [`Screen`]:
//!
//! 1. the submission is counted in the [`Load`] gauge (all public submissions of the process in
//!    the last minute) and against the limits of its network ([`network_of`]: IPv4 /24, IPv6
//!    /64) — [`SUBMIT_LIMIT`] per [`SUBMIT_WINDOW`] for every form, and [`CHECK_LIMIT`] per
//!    [`CHECK_WINDOW`] more for the "am I affected?" check. Over a limit: [`Screen::Throttled`]
//!    (429 with `Retry-After`); counted before anything else, so that a script sending garbage
//!    is limited like one sending good forms;
//! 2. a filled honeypot field: [`Screen::Honeypot`] (the page answers as if it had accepted the
//!    form, and stores nothing);
//! 3. the form stamp ([`form_stamp`]) must be present, ours, younger than two hours, and the
//!    form must have been open at least [`abuse::MIN_FILL_TIME`];
//! 4. under load (at least [`PublicGuard::load_threshold`] submissions in the last minute,
//!    [`LOAD_THRESHOLD`] by default) a solved proof-of-work challenge ([`pow`]) must come with
//!    the form, each challenge used once;
//! 5. then the stamp is spent (a form is accepted once) and the answer is [`Screen::Pass`].
//!
//! A refusal at 3 or 4 is a [`Refusal`]: the page is shown again (422) with its message, the
//! values as typed and fresh tokens. Nothing here sees the submitted values other than the
//! honeypot, the stamp and the challenge, and nothing here logs them.
//!
//! The stamp and the challenge are per rendering ([`PublicGuard::tokens`]), so the public page
//! is rendered afresh for every request from the cached `PublicPage`; no HTML holding a token
//! is cached.

use mamori_app::keys::Keys;
use mamori_domain::abuse::{
    self, form_stamp, network_of, pow, Limiter, Load, PowError, Replay, StampError, Verdict, MINUTE,
};
use mamori_domain::lang::Lang;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

/// Largest body of a public form: 64 KiB (the longest field is 2,000 characters).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Submissions to the public forms per network and [`SUBMIT_WINDOW`].
pub const SUBMIT_LIMIT: u32 = 20;
/// The window of [`SUBMIT_LIMIT`]: 10 minutes.
pub const SUBMIT_WINDOW: i64 = 10 * MINUTE;
/// "Am I affected?" checks per network and [`CHECK_WINDOW`] (each sends a mail).
pub const CHECK_LIMIT: u32 = 5;
/// The window of [`CHECK_LIMIT`]: one hour.
pub const CHECK_WINDOW: i64 = 60 * MINUTE;
/// Public submissions per minute, across the process, from which proof-of-work is asked.
pub const LOAD_THRESHOLD: u64 = 30;
/// The name of the honeypot field: one that no browser's autofill recognises.
pub const HONEYPOT_FIELD: &str = "ref_code";

/// The three forms of the public page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicForm {
    Check,
    Inquiry,
    Survey,
}

impl PublicForm {
    /// The form's name: its path segment, its anchor, its `sent=` value, its field-id prefix.
    pub fn code(self) -> &'static str {
        match self {
            PublicForm::Check => "check",
            PublicForm::Inquiry => "inquiry",
            PublicForm::Survey => "survey",
        }
    }

    pub fn parse(s: &str) -> Option<PublicForm> {
        match s {
            "check" => Some(PublicForm::Check),
            "inquiry" => Some(PublicForm::Inquiry),
            "survey" => Some(PublicForm::Survey),
            _ => None,
        }
    }
}

/// The anti-abuse fields a public form sends besides its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shield<'a> {
    /// The honeypot field ([`HONEYPOT_FIELD`]).
    pub honeypot: &'a str,
    /// The form stamp (field `stamp`).
    pub stamp: &'a str,
    /// The proof-of-work challenge the form was served with (field `pow_token`).
    pub pow_token: &'a str,
    /// Its solution, written by `static/pow.js` (field `pow`).
    pub pow: &'a str,
}

/// Why a form is shown again instead of accepted (the visitor can fix it by sending again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No stamp at all (a form from an old page, or a script).
    StampMissing,
    Stamp(StampError),
    /// Sent within [`abuse::MIN_FILL_TIME`] of being served.
    TooFast,
    /// Under load, no challenge or no solution came with the form.
    PowMissing,
    Pow(PowError),
}

impl Refusal {
    /// A short code for the log.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::StampMissing => "stamp_missing",
            Refusal::Stamp(StampError::Malformed) => "stamp_malformed",
            Refusal::Stamp(StampError::Forged) => "stamp_forged",
            Refusal::Stamp(StampError::Expired) => "stamp_expired",
            Refusal::Stamp(StampError::Used) => "stamp_used",
            Refusal::TooFast => "too_fast",
            Refusal::PowMissing => "pow_missing",
            Refusal::Pow(PowError::Malformed) => "pow_malformed",
            Refusal::Pow(PowError::Forged) => "pow_forged",
            Refusal::Pow(PowError::Expired) => "pow_expired",
            Refusal::Pow(PowError::NotSolved) => "pow_not_solved",
            Refusal::Pow(PowError::Used) => "pow_used",
        }
    }

    /// What the visitor reads above the form.
    pub fn say(self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            Refusal::StampMissing => if ja {
                "フォームの確認用データが届きませんでした。入力内容はそのまま残っていますので、もう一度送信してください。"
            } else {
                "The form's check data did not arrive. What you typed is kept below; please send the form again."
            }
            .to_owned(),
            Refusal::TooFast => if ja {
                "フォームを開いてから送信までが短すぎたため、受け付けられませんでした。入力内容を確認して、もう一度送信してください。"
            } else {
                "The form was sent too soon after the page was opened. Please check what you typed and send it again."
            }
            .to_owned(),
            Refusal::Stamp(e) => e.say(lang),
            Refusal::PowMissing => PowError::NotSolved.say(lang),
            Refusal::Pow(e) => e.say(lang),
        }
    }
}

/// What [`PublicGuard::screen`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Go on: the use case decides on the values.
    Pass,
    /// The honeypot was filled: answer as if accepted, store nothing.
    Honeypot,
    /// Over a limit of the network; try again in `retry_after` seconds.
    Throttled { retry_after: u64 },
    /// Show the form again with the refusal's message.
    Refused(Refusal),
}

/// A proof-of-work challenge for a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub token: String,
    pub bits: u8,
}

/// What one rendering of a form carries: a fresh stamp and, under load, a fresh challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTokens {
    pub stamp: String,
    pub pow: Option<Challenge>,
}

#[derive(Debug)]
struct Counters {
    limiter: Limiter,
    load: Load,
}

/// The shared state of the public forms (one per process, in [`crate::WebState`]).
///
/// The limits and the proof-of-work difficulty are public fields so that a deployment (or a
/// test) can set them before the guard is shared; they are read, never written, afterwards.
#[derive(Debug)]
pub struct PublicGuard {
    /// Leading zero bits a challenge asks for ([`pow::DEFAULT_BITS`] by default).
    pub pow_bits: u8,
    /// Submissions in the last minute from which proof-of-work is asked.
    pub load_threshold: u64,
    /// (limit, window in µs) per network for every form.
    pub submit_limit: (u32, i64),
    /// (limit, window in µs) per network for the check, on top of `submit_limit`.
    pub check_limit: (u32, i64),
    stamp_secret: [u8; 32],
    pow_secret: [u8; 32],
    counters: Mutex<Counters>,
    replay: Mutex<Replay>,
}

/// A poisoned lock still holds consistent counters (no code here panics while holding one).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn seed() -> [u8; 16] {
    rand::random()
}

/// The key the limits count a client by: its network, or `unknown` when the server runs
/// without connection info (then everybody shares one counter, which shows at once).
pub fn network_key(ip: &str) -> String {
    ip.parse::<IpAddr>()
        .map_or_else(|_| "unknown".to_owned(), network_of)
}

impl PublicGuard {
    /// A guard with the default limits, its secrets derived from the server's key.
    pub fn new(keys: &Keys) -> PublicGuard {
        PublicGuard {
            pow_bits: pow::DEFAULT_BITS,
            load_threshold: LOAD_THRESHOLD,
            submit_limit: (SUBMIT_LIMIT, SUBMIT_WINDOW),
            check_limit: (CHECK_LIMIT, CHECK_WINDOW),
            stamp_secret: keys.derive("public-form-stamp"),
            pow_secret: keys.derive("public-pow"),
            counters: Mutex::new(Counters {
                limiter: Limiter::default(),
                load: Load::default(),
            }),
            replay: Mutex::new(Replay::default()),
        }
    }

    /// Whether proof-of-work is asked for at `now`.
    pub fn under_load(&self, now: i64) -> bool {
        lock(&self.counters)
            .load
            .under_load(now, self.load_threshold)
    }

    /// Fresh tokens for one form rendered at `now`; a challenge when `under_load`.
    pub fn tokens(&self, now: i64, under_load: bool) -> FormTokens {
        FormTokens {
            stamp: form_stamp::issue(&self.stamp_secret, now, seed()),
            pow: under_load.then(|| Challenge {
                token: pow::issue(&self.pow_secret, now, self.pow_bits, seed()),
                bits: self.pow_bits.min(pow::MAX_BITS),
            }),
        }
    }

    /// Decides on one submission of `form` from `network` (see [`network_key`]) at `now`.
    pub fn screen(&self, form: PublicForm, network: &str, shield: &Shield<'_>, now: i64) -> Screen {
        let under_load = {
            let mut c = lock(&self.counters);
            let under_load = c.load.under_load(now, self.load_threshold);
            c.load.record(now);
            if form == PublicForm::Check {
                let (limit, window) = self.check_limit;
                if let Verdict::Refused { retry_after } =
                    c.limiter
                        .hit(&format!("check:{network}"), now, limit, window)
                {
                    return Screen::Throttled { retry_after };
                }
            }
            let (limit, window) = self.submit_limit;
            if let Verdict::Refused { retry_after } =
                c.limiter
                    .hit(&format!("form:{network}"), now, limit, window)
            {
                return Screen::Throttled { retry_after };
            }
            under_load
        };
        if abuse::honeypot_tripped(shield.honeypot) {
            return Screen::Honeypot;
        }
        let stamp = shield.stamp.trim();
        if stamp.is_empty() {
            return Screen::Refused(Refusal::StampMissing);
        }
        match form_stamp::verify(&self.stamp_secret, stamp, now) {
            Ok(at) if abuse::too_fast(at, now) => return Screen::Refused(Refusal::TooFast),
            Ok(_) => {}
            Err(e) => return Screen::Refused(Refusal::Stamp(e)),
        }
        let mut replay = lock(&self.replay);
        if under_load {
            let token = shield.pow_token.trim();
            let solution = shield.pow.trim();
            if token.is_empty() || solution.is_empty() {
                return Screen::Refused(Refusal::PowMissing);
            }
            if let Err(e) = pow::redeem(&self.pow_secret, token, solution, now, &mut replay) {
                return Screen::Refused(Refusal::Pow(e));
            }
        }
        match form_stamp::redeem(&self.stamp_secret, stamp, now, &mut replay) {
            Ok(_) => Screen::Pass,
            Err(e) => Screen::Refused(Refusal::Stamp(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::abuse::SECOND;

    const T0: i64 = 1_795_482_000_000_000;

    fn guard() -> PublicGuard {
        let dir = mamori_store::testing::temp_dir("guardkeys");
        let keys = Keys::load_or_create(&dir.join("k"), true).unwrap();
        PublicGuard::new(&keys)
    }

    fn solve(token: &str, bits: u8) -> String {
        (0u64..10_000_000)
            .map(|n| n.to_string())
            .find(|s| pow::solves(token, s, bits))
            .unwrap()
    }

    #[test]
    fn a_good_form_passes_once() {
        let g = guard();
        let t = g.tokens(T0, false);
        assert!(t.pow.is_none());
        let shield = Shield {
            stamp: &t.stamp,
            ..Shield::default()
        };
        let net = network_key("203.0.113.9");
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &shield, T0 + 3 * SECOND),
            Screen::Pass
        );
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &shield, T0 + 4 * SECOND),
            Screen::Refused(Refusal::Stamp(StampError::Used))
        );
    }

    #[test]
    fn stamps_are_checked_before_they_are_spent() {
        let g = guard();
        let t = g.tokens(T0, false);
        let net = network_key("2001:db8::1");
        let s = |stamp: &'static str| Shield {
            stamp,
            ..Shield::default()
        };
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &s(""), T0),
            Screen::Refused(Refusal::StampMissing)
        );
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &s("s1.x"), T0),
            Screen::Refused(Refusal::Stamp(StampError::Malformed))
        );
        let shield = Shield {
            stamp: &t.stamp,
            ..Shield::default()
        };
        // Too fast does not use the stamp up: sent again later it passes.
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &shield, T0 + SECOND),
            Screen::Refused(Refusal::TooFast)
        );
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &shield, T0 + form_stamp::MAX_AGE),
            Screen::Refused(Refusal::Stamp(StampError::Expired))
        );
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &shield, T0 + 5 * SECOND),
            Screen::Pass
        );
        // Another server's stamp is not ours.
        let other = guard().tokens(T0, false);
        let shield = Shield {
            stamp: &other.stamp,
            ..Shield::default()
        };
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &shield, T0 + 5 * SECOND),
            Screen::Refused(Refusal::Stamp(StampError::Forged))
        );
    }

    #[test]
    fn the_honeypot_is_answered_after_counting() {
        let mut g = guard();
        g.submit_limit = (2, MINUTE);
        let net = network_key("198.51.100.7");
        let shield = Shield {
            honeypot: "http://spam.example/",
            ..Shield::default()
        };
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &shield, T0),
            Screen::Honeypot
        );
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &shield, T0),
            Screen::Honeypot
        );
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &shield, T0),
            Screen::Throttled { retry_after: 60 }
        );
        // The same /24, another address: the same counter; another network is not limited.
        let shield = Shield::default();
        assert!(matches!(
            g.screen(
                PublicForm::Inquiry,
                &network_key("198.51.100.200"),
                &shield,
                T0
            ),
            Screen::Throttled { .. }
        ));
        assert_eq!(
            g.screen(PublicForm::Inquiry, &network_key("192.0.2.1"), &shield, T0),
            Screen::Refused(Refusal::StampMissing)
        );
    }

    #[test]
    fn the_check_has_its_own_stricter_limit() {
        let g = guard();
        let net = network_key("203.0.113.1");
        for _ in 0..CHECK_LIMIT {
            assert_eq!(
                g.screen(PublicForm::Check, &net, &Shield::default(), T0),
                Screen::Refused(Refusal::StampMissing)
            );
        }
        assert_eq!(
            g.screen(PublicForm::Check, &net, &Shield::default(), T0 + SECOND),
            Screen::Throttled { retry_after: 3599 }
        );
        // The other forms still have their own allowance.
        assert_eq!(
            g.screen(PublicForm::Survey, &net, &Shield::default(), T0),
            Screen::Refused(Refusal::StampMissing)
        );
    }

    #[test]
    fn under_load_a_solved_challenge_is_needed_once() {
        let mut g = guard();
        g.pow_bits = 6;
        g.load_threshold = 3;
        assert!(!g.under_load(T0));
        for i in 0..3 {
            g.screen(
                PublicForm::Survey,
                &network_key(&format!("192.0.2.{i}")),
                &Shield::default(),
                T0,
            );
        }
        assert!(g.under_load(T0 + SECOND));
        let t = g.tokens(T0 + SECOND, true);
        let c = t.pow.clone().unwrap();
        assert_eq!(c.bits, 6);
        assert_eq!(pow::bits_of(&c.token), Some(6));
        let now = T0 + 5 * SECOND;
        let net = network_key("203.0.113.50");
        let without = Shield {
            stamp: &t.stamp,
            ..Shield::default()
        };
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &without, now),
            Screen::Refused(Refusal::PowMissing)
        );
        let wrong = Shield {
            honeypot: "",
            stamp: &t.stamp,
            pow_token: &c.token,
            pow: "x",
        };
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &wrong, now),
            Screen::Refused(Refusal::Pow(PowError::NotSolved))
        );
        let solution = solve(&c.token, 6);
        let good = Shield {
            honeypot: "",
            stamp: &t.stamp,
            pow_token: &c.token,
            pow: &solution,
        };
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &good, now),
            Screen::Pass
        );
        // The challenge is spent, whatever stamp comes with it.
        let t2 = g.tokens(now, true);
        let again = Shield {
            honeypot: "",
            stamp: &t2.stamp,
            pow_token: &c.token,
            pow: &solution,
        };
        assert_eq!(
            g.screen(PublicForm::Inquiry, &net, &again, now + 3 * SECOND),
            Screen::Refused(Refusal::Pow(PowError::Used))
        );
        // A minute later the load is gone and no challenge is asked.
        assert!(!g.under_load(now + 2 * MINUTE));
    }

    #[test]
    fn refusals_speak_both_languages() {
        for r in [
            Refusal::StampMissing,
            Refusal::TooFast,
            Refusal::PowMissing,
            Refusal::Stamp(StampError::Expired),
            Refusal::Pow(PowError::Used),
        ] {
            let ja = r.say(Lang::Ja);
            let en = r.say(Lang::En);
            assert!(!ja.is_ascii() && en.is_ascii(), "{ja} / {en}");
            assert!(!r.code().is_empty());
        }
        assert_eq!(network_key("unknown"), "unknown");
        assert_eq!(network_key("::ffff:203.0.113.9"), "v4:203.0.113.0/24");
        for f in [PublicForm::Check, PublicForm::Inquiry, PublicForm::Survey] {
            assert_eq!(PublicForm::parse(f.code()), Some(f));
        }
        assert_eq!(PublicForm::parse("x"), None);
    }
}
