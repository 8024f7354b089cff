//! Notification campaigns (issue 14): the per-recipient state machine, pure.
//!
//! A campaign tries to reach each affected person through the channels of its order (by
//! default post → e-mail → phone), skipping the channels the person has no contact data for.
//! Each recipient is on one channel at a time, in one [`State`]. A failure on a channel (a
//! returned letter, a bounced or refused e-mail, a wrong number, a refusal of calls, three
//! unanswered calls) moves the person to the next channel they can be reached on; when none is
//! left they are `unreachable` until a public notice (代替措置) covers them.
//!
//! The store keeps the state as short codes ([`State::code`], [`Channel::code`]); the app feeds
//! events through [`step`] and writes back what it returns, so every rule is here and tested
//! without a database.

use std::fmt;
use std::str::FromStr;

/// How a person is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Post,
    Email,
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Post, Channel::Email, Channel::Phone];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Post => "post",
            Channel::Email => "email",
            Channel::Phone => "phone",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Channel::Post => "郵送",
            Channel::Email => "電子メール",
            Channel::Phone => "電話",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Channel::Post => "post",
            Channel::Email => "e-mail",
            Channel::Phone => "phone",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Channel {
    type Err = CampaignError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "post" | "郵送" => Ok(Channel::Post),
            "email" | "e-mail" | "電子メール" | "メール" => Ok(Channel::Email),
            "phone" | "電話" => Ok(Channel::Phone),
            other => Err(CampaignError::UnknownChannel(other.to_owned())),
        }
    }
}

/// The default order: a letter first (it reaches everybody with an address and is the usual
/// means in Japan), then e-mail, then a call.
pub const DEFAULT_ORDER: [Channel; 3] = [Channel::Post, Channel::Email, Channel::Phone];

/// Parses a channel order such as `post,email,phone`: at least one channel, none twice.
pub fn parse_order(s: &str) -> Result<Vec<Channel>, CampaignError> {
    let mut out = Vec::new();
    for part in s.split([',', '、', ' ']).filter(|p| !p.trim().is_empty()) {
        let c: Channel = part.parse()?;
        if out.contains(&c) {
            return Err(CampaignError::DuplicateChannel(c));
        }
        out.push(c);
    }
    if out.is_empty() {
        return Err(CampaignError::EmptyOrder);
    }
    Ok(out)
}

/// The order as stored (`post,email,phone`).
pub fn order_code(order: &[Channel]) -> String {
    order.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
}

/// Which channels a person has contact data for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// A postal address (with or without postal code).
    pub post: bool,
    /// An e-mail address that looks like one.
    pub email: bool,
    pub phone: bool,
}

impl Reach {
    pub fn has(self, c: Channel) -> bool {
        match c {
            Channel::Post => self.post,
            Channel::Email => self.email,
            Channel::Phone => self.phone,
        }
    }

    /// Stored as a short code: `pep` letters present (`p` post, `e` e-mail, `t` telephone).
    pub fn code(self) -> String {
        let mut s = String::new();
        if self.post {
            s.push('p');
        }
        if self.email {
            s.push('e');
        }
        if self.phone {
            s.push('t');
        }
        s
    }

    pub fn from_code(s: &str) -> Reach {
        Reach {
            post: s.contains('p'),
            email: s.contains('e'),
            phone: s.contains('t'),
        }
    }
}

/// Where one recipient stands on their current channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Waiting for the channel (a letter to print, an e-mail to send, a call to make).
    Queued,
    /// E-mail only: claimed by a sender, its Message-ID stored, the SMTP transaction under way.
    Sending,
    /// E-mail only: a sender was stopped during the SMTP transaction (crash, kill); whether the
    /// relay accepted the message is not known, so it is not sent again until the relay's log
    /// says (see `mamori-app::campaign`).
    InDoubt,
    /// Letter posted / e-mail accepted by the relay. Counts as notified unless it comes back.
    Sent,
    /// E-mail: a delivery notification said it arrived.
    Delivered,
    /// Phone: the person was reached and told.
    Reached,
    /// No channel left.
    Unreachable,
    /// Unreachable, and covered by the published public notice (代替措置).
    Covered,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Queued,
        State::Sending,
        State::InDoubt,
        State::Sent,
        State::Delivered,
        State::Reached,
        State::Unreachable,
        State::Covered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::InDoubt => "in_doubt",
            State::Sent => "sent",
            State::Delivered => "delivered",
            State::Reached => "reached",
            State::Unreachable => "unreachable",
            State::Covered => "covered",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            State::Queued => "送付待ち",
            State::Sending => "送信中",
            State::InDoubt => "送信結果不明",
            State::Sent => "送付済み",
            State::Delivered => "配達確認済み",
            State::Reached => "連絡済み",
            State::Unreachable => "連絡不能",
            State::Covered => "公表により対応",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::InDoubt => "outcome unknown",
            State::Sent => "sent",
            State::Delivered => "delivered",
            State::Reached => "reached",
            State::Unreachable => "unreachable",
            State::Covered => "covered by public notice",
        }
    }

    /// The person has been notified (or reached) on some channel.
    pub fn is_notified(self) -> bool {
        matches!(self, State::Sent | State::Delivered | State::Reached)
    }

    /// Nothing more will happen without a new event from outside (a return, a bounce, a
    /// public notice).
    pub fn is_settled(self) -> bool {
        self.is_notified() || matches!(self, State::Unreachable | State::Covered)
    }
}

/// Why a letter came back (the post office's stamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnReason {
    /// 宛先不明 (also 宛所に尋ねあたりません).
    UnknownAddress,
    /// 転居先不明.
    Moved,
    /// 受取拒否.
    Refused,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 3] = [
        ReturnReason::UnknownAddress,
        ReturnReason::Moved,
        ReturnReason::Refused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReturnReason::UnknownAddress => "unknown_address",
            ReturnReason::Moved => "moved",
            ReturnReason::Refused => "refused",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ReturnReason::UnknownAddress => "宛先不明",
            ReturnReason::Moved => "転居先不明",
            ReturnReason::Refused => "受取拒否",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ReturnReason::UnknownAddress => "address unknown",
            ReturnReason::Moved => "moved, no forwarding address",
            ReturnReason::Refused => "refused",
        }
    }

    /// Reads the code, the Japanese stamp or the English words (an empty reason is
    /// 宛先不明, the usual stamp).
    pub fn parse(s: &str) -> Option<ReturnReason> {
        let t = s.trim();
        if t.is_empty() {
            return Some(ReturnReason::UnknownAddress);
        }
        ReturnReason::ALL
            .into_iter()
            .find(|r| r.code() == t || r.label_ja() == t || r.label_en().eq_ignore_ascii_case(t))
            .or(match t {
                "宛所に尋ねあたりません" | "あて所に尋ねあたりません" | "宛所不明" => {
                    Some(ReturnReason::UnknownAddress)
                }
                "転居" => Some(ReturnReason::Moved),
                _ => None,
            })
    }
}

/// What a call gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    WrongNumber,
    /// The person asked not to be called.
    DoNotCall,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 4] = [
        CallOutcome::Reached,
        CallOutcome::NoAnswer,
        CallOutcome::WrongNumber,
        CallOutcome::DoNotCall,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::WrongNumber => "wrong_number",
            CallOutcome::DoNotCall => "do_not_call",
        }
    }

    pub fn parse(s: &str) -> Option<CallOutcome> {
        CallOutcome::ALL.into_iter().find(|x| x.code() == s.trim())
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            CallOutcome::Reached => "本人に連絡済み",
            CallOutcome::NoAnswer => "不在・応答なし",
            CallOutcome::WrongNumber => "番号違い",
            CallOutcome::DoNotCall => "架電拒否",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::NoAnswer => "no answer",
            CallOutcome::WrongNumber => "wrong number",
            CallOutcome::DoNotCall => "do not call",
        }
    }
}

/// Calls without an answer before the phone channel is given up.
pub const MAX_NO_ANSWER: i64 = 3;
/// The least time between two calls to one person (4 hours), in microseconds.
pub const CALL_RETRY_MICROS: i64 = 4 * 3600 * 1_000_000;

/// One recipient as the state machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    /// `None` once no channel is left (state `Unreachable` or `Covered`).
    pub channel: Option<Channel>,
    pub state: State,
    /// Unanswered calls so far on the phone channel.
    pub no_answers: i64,
    /// Not to be tried before this time (micros); calls only.
    pub not_before: Option<i64>,
}

/// Something that happened to a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The letter was printed and posted.
    Posted,
    /// The letter came back.
    Returned(ReturnReason),
    /// A sender claimed the e-mail (Message-ID stored).
    Claimed,
    /// The relay accepted the e-mail (250 after DATA).
    Accepted,
    /// The relay refused for now (4xx, connection refused): queued again.
    TempFailed,
    /// The address is not an e-mail address, or the relay refused it for good (5xx).
    Refused,
    /// A delivery notification: delivered.
    DeliveryReport,
    /// A delivery notification: failed for good.
    Bounced,
    /// The sender was found stopped during the transaction.
    LostInFlight,
    /// The relay's log has the message: it was accepted.
    ConfirmedByLog,
    /// The relay's log does not have it: send again (a new attempt, a new Message-ID).
    AbsentFromLog,
    Called(CallOutcome),
    /// The public notice was published.
    PublicNotice,
}

impl Event {
    pub fn code(self) -> &'static str {
        match self {
            Event::Posted => "posted",
            Event::Returned(r) => r.code(),
            Event::Claimed => "claimed",
            Event::Accepted => "accepted",
            Event::TempFailed => "temp_failed",
            Event::Refused => "refused",
            Event::DeliveryReport => "delivered",
            Event::Bounced => "bounced",
            Event::LostInFlight => "in_doubt",
            Event::ConfirmedByLog => "confirmed_by_log",
            Event::AbsentFromLog => "absent_from_log",
            Event::Called(o) => o.code(),
            Event::PublicNotice => "public_notice",
        }
    }
}

/// Problems with campaign input or with a transition that is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("unknown channel `{0}` (post, email, phone)")]
    UnknownChannel(String),
    #[error("channel {0} appears twice in the order")]
    DuplicateChannel(Channel),
    #[error("the channel order is empty")]
    EmptyOrder,
    #[error("event {event} does not apply to a recipient {state} on {channel}")]
    NotApplicable {
        event: &'static str,
        state: &'static str,
        channel: &'static str,
    },
    #[error("the next call is not due before {0}")]
    TooEarly(i64),
}

impl CampaignError {
    pub fn ja(&self) -> String {
        match self {
            CampaignError::UnknownChannel(c) => {
                format!("「{c}」は連絡手段ではありません（郵送・電子メール・電話）")
            }
            CampaignError::DuplicateChannel(c) => {
                format!("連絡手段「{}」が二度指定されています", c.label_ja())
            }
            CampaignError::EmptyOrder => "連絡手段を一つ以上指定してください".into(),
            CampaignError::NotApplicable {
                event,
                state,
                channel,
            } => format!("この宛先（{channel}・{state}）には「{event}」を記録できません"),
            CampaignError::TooEarly(_) => "前回の架電から4時間以上あけてください".into(),
        }
    }
}

/// The first channel of `order` at or after position `from` the person can be reached on.
fn first_from(order: &[Channel], from: usize, reach: Reach) -> Option<Channel> {
    order.iter().skip(from).copied().find(|c| reach.has(*c))
}

/// Where a new recipient starts: the first channel they have data for, queued; or
/// unreachable straight away.
pub fn start(order: &[Channel], reach: Reach) -> Recipient {
    place(first_from(order, 0, reach))
}

fn place(channel: Option<Channel>) -> Recipient {
    Recipient {
        channel,
        state: if channel.is_some() {
            State::Queued
        } else {
            State::Unreachable
        },
        no_answers: 0,
        not_before: None,
    }
}

/// The recipient after a failure on their current channel: the next channel of the order
/// they have data for, or unreachable.
pub fn next_channel(order: &[Channel], reach: Reach, current: Option<Channel>) -> Recipient {
    let from = current
        .and_then(|c| order.iter().position(|x| *x == c))
        .map_or(order.len(), |i| i + 1);
    place(first_from(order, from, reach))
}

/// Applies one event at time `now` (micros). Returns the new recipient, or why the event does
/// not apply (nothing changes then).
pub fn step(
    order: &[Channel],
    reach: Reach,
    r: Recipient,
    event: Event,
    now: i64,
) -> Result<Recipient, CampaignError> {
    use Channel as C;
    use State as S;
    let not_applicable = || CampaignError::NotApplicable {
        event: event.code(),
        state: r.state.code(),
        channel: r.channel.map_or("-", Channel::code),
    };
    let with = |state: State| Recipient { state, ..r };
    match (r.channel, r.state, event) {
        // Public notice covers whoever is still unreachable; everybody else is unchanged.
        (None, S::Unreachable, Event::PublicNotice) => Ok(with(S::Covered)),
        // Posted, accepted by the relay, or found in the relay's log: notified.
        (Some(C::Post), S::Queued, Event::Posted)
        | (Some(C::Email), S::Sending, Event::Accepted)
        | (Some(C::Email), S::InDoubt, Event::ConfirmedByLog) => Ok(with(S::Sent)),
        // A definite failure on the channel: the next channel.
        (Some(C::Post), S::Sent | S::Queued, Event::Returned(_))
        | (Some(C::Email), S::Queued | S::Sending, Event::Refused)
        | (Some(C::Email), S::Sent | S::Delivered | S::InDoubt, Event::Bounced) => {
            Ok(next_channel(order, reach, r.channel))
        }
        // E-mail claims and their fate.
        (Some(C::Email), S::Queued, Event::Claimed) => Ok(with(S::Sending)),
        (Some(C::Email), S::Sending, Event::TempFailed)
        | (Some(C::Email), S::InDoubt, Event::AbsentFromLog) => Ok(with(S::Queued)),
        (Some(C::Email), S::Sending, Event::LostInFlight) => Ok(with(S::InDoubt)),
        (Some(C::Email), S::Sent | S::InDoubt, Event::DeliveryReport) => Ok(with(S::Delivered)),
        // Phone.
        (Some(C::Phone), S::Queued, Event::Called(o)) => {
            if let Some(t) = r.not_before {
                if now < t {
                    return Err(CampaignError::TooEarly(t));
                }
            }
            match o {
                CallOutcome::Reached => Ok(Recipient {
                    state: S::Reached,
                    not_before: None,
                    ..r
                }),
                CallOutcome::NoAnswer if r.no_answers + 1 >= MAX_NO_ANSWER => {
                    let mut n = next_channel(order, reach, r.channel);
                    n.no_answers = r.no_answers + 1;
                    Ok(n)
                }
                CallOutcome::NoAnswer => Ok(Recipient {
                    no_answers: r.no_answers + 1,
                    not_before: Some(now + CALL_RETRY_MICROS),
                    ..r
                }),
                CallOutcome::WrongNumber | CallOutcome::DoNotCall => {
                    Ok(next_channel(order, reach, r.channel))
                }
            }
        }
        _ => Err(not_applicable()),
    }
}

/// The reference number printed on a letter and typed back from a returned envelope: the
/// recipient's number (seven digits or more) and a check digit (Luhn), shown `0001234-5`. It
/// carries no personal data; the check digit catches a mistyped or swapped digit.
pub fn reference(recipient_id: i64) -> String {
    let digits = format!("{:07}", recipient_id.max(0));
    format!("{digits}-{}", luhn_digit(&digits))
}

/// Reads a reference as typed or printed (full-width digits, spaces and any dash allowed).
/// Returns the recipient id, or `None` when it is not a reference or its check digit is wrong.
pub fn parse_reference(s: &str) -> Option<i64> {
    let mut digits = String::new();
    for ch in s.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            '０'..='９' => digits.push(char::from(b'0' + (ch as u32 - '０' as u32) as u8)),
            '-' | '‐' | '－' | '—' | '―' | 'ー' | ' ' | '　' => {}
            _ => return None,
        }
    }
    if digits.len() < 8 || digits.len() > 19 {
        return None;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    if luhn_digit(body).to_string() != check {
        return None;
    }
    body.parse().ok()
}

fn luhn_digit(digits: &str) -> u32 {
    let mut sum = 0;
    for (i, d) in digits.bytes().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    (10 - sum % 10) % 10
}

/// The Message-IDs of mamori's campaign messages in a relay's mail log (Postfix
/// `message-id=<mamori.c1.r2.a1@example.co.jp>`, Exim `id=…`, or one id per line), for
/// settling in-doubt e-mails. Only ids of the form mamori writes are taken, without brackets.
pub fn campaign_ids_in_log(log: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = log;
    while let Some(i) = rest.find("mamori.c") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c == '>' || c == ',' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        let id = &tail[..end];
        if id.contains(".r") && id.contains(".a") && id.contains('@') {
            out.push(id.to_owned());
        }
        rest = &tail[end.max(1)..];
    }
    out.sort();
    out.dedup();
    out
}

/// Whether a string can be used as an e-mail address (one `@`, a dotted domain, no spaces or
/// control characters). A person whose e-mail fails this has no e-mail channel.
pub fn plausible_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.is_ascii()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Reach = Reach {
        post: true,
        email: true,
        phone: true,
    };
    const H: i64 = 3600 * 1_000_000;

    fn r(channel: Option<Channel>, state: State) -> Recipient {
        Recipient {
            channel,
            state,
            no_answers: 0,
            not_before: None,
        }
    }

    #[test]
    fn start_skips_channels_without_data() {
        let cases = [
            (ALL, Some(Channel::Post)),
            (Reach { post: false, ..ALL }, Some(Channel::Email)),
            (
                Reach {
                    phone: true,
                    ..Reach::default()
                },
                Some(Channel::Phone),
            ),
            (Reach::default(), None),
        ];
        for (reach, want) in cases {
            let s = start(&DEFAULT_ORDER, reach);
            assert_eq!(s.channel, want, "{reach:?}");
            let state = if want.is_some() {
                State::Queued
            } else {
                State::Unreachable
            };
            assert_eq!(s.state, state);
        }
        // A configured order is followed.
        let order = parse_order("email, phone").unwrap();
        assert_eq!(start(&order, ALL).channel, Some(Channel::Email));
        assert_eq!(
            start(
                &order,
                Reach {
                    post: true,
                    ..Reach::default()
                }
            )
            .state,
            State::Unreachable
        );
    }

    #[test]
    fn transitions_table() {
        use CallOutcome as O;
        use Channel::{Email, Phone, Post};
        use Event as E;
        use State as S;
        let no_email = Reach {
            email: false,
            ..ALL
        };
        // (reach, before, event, after channel, after state)
        let table: &[(Reach, Recipient, Event, Option<Channel>, State)] = &[
            (
                ALL,
                r(Some(Post), S::Queued),
                E::Posted,
                Some(Post),
                S::Sent,
            ),
            (
                ALL,
                r(Some(Post), S::Sent),
                E::Returned(ReturnReason::Moved),
                Some(Email),
                S::Queued,
            ),
            (
                no_email,
                r(Some(Post), S::Sent),
                E::Returned(ReturnReason::Refused),
                Some(Phone),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Queued),
                E::Claimed,
                Some(Email),
                S::Sending,
            ),
            (
                ALL,
                r(Some(Email), S::Sending),
                E::Accepted,
                Some(Email),
                S::Sent,
            ),
            (
                ALL,
                r(Some(Email), S::Sending),
                E::TempFailed,
                Some(Email),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Sending),
                E::Refused,
                Some(Phone),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Queued),
                E::Refused,
                Some(Phone),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Sending),
                E::LostInFlight,
                Some(Email),
                S::InDoubt,
            ),
            (
                ALL,
                r(Some(Email), S::InDoubt),
                E::ConfirmedByLog,
                Some(Email),
                S::Sent,
            ),
            (
                ALL,
                r(Some(Email), S::InDoubt),
                E::AbsentFromLog,
                Some(Email),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Sent),
                E::Bounced,
                Some(Phone),
                S::Queued,
            ),
            (
                ALL,
                r(Some(Email), S::Sent),
                E::DeliveryReport,
                Some(Email),
                S::Delivered,
            ),
            (
                Reach {
                    phone: false,
                    ..ALL
                },
                r(Some(Email), S::Sent),
                E::Bounced,
                None,
                S::Unreachable,
            ),
            (
                ALL,
                r(Some(Phone), S::Queued),
                E::Called(O::Reached),
                Some(Phone),
                S::Reached,
            ),
            (
                ALL,
                r(Some(Phone), S::Queued),
                E::Called(O::WrongNumber),
                None,
                S::Unreachable,
            ),
            (
                ALL,
                r(Some(Phone), S::Queued),
                E::Called(O::DoNotCall),
                None,
                S::Unreachable,
            ),
            (
                ALL,
                r(None, S::Unreachable),
                E::PublicNotice,
                None,
                S::Covered,
            ),
        ];
        for (i, (reach, before, event, ch, st)) in table.iter().enumerate() {
            let after = step(&DEFAULT_ORDER, *reach, *before, *event, 10 * H)
                .unwrap_or_else(|e| panic!("row {i}: {e}"));
            assert_eq!(
                (after.channel, after.state),
                (*ch, *st),
                "row {i}: {event:?}"
            );
        }
        // Events that do not apply change nothing and say why.
        let refused: &[(Recipient, Event)] = &[
            (r(Some(Post), S::Sent), E::Posted),
            (r(Some(Email), S::Sent), E::Accepted),
            (r(Some(Email), S::Queued), E::Posted),
            (r(Some(Phone), S::Reached), E::Called(O::NoAnswer)),
            (r(Some(Email), S::Sent), E::PublicNotice),
            (r(None, S::Covered), E::PublicNotice),
            (r(Some(Post), S::Queued), E::Claimed),
        ];
        for (before, event) in refused {
            let e = step(&DEFAULT_ORDER, ALL, *before, *event, 0).unwrap_err();
            assert!(
                matches!(e, CampaignError::NotApplicable { .. }),
                "{event:?}"
            );
            assert!(!e.ja().is_empty());
        }
    }

    #[test]
    fn no_answer_three_times_four_hours_apart_then_next_channel() {
        let order = parse_order("phone,post").unwrap();
        let mut p = start(&order, ALL);
        assert_eq!(p.channel, Some(Channel::Phone));
        let t0 = 100 * H;
        p = step(&order, ALL, p, Event::Called(CallOutcome::NoAnswer), t0).unwrap();
        assert_eq!(
            (p.state, p.no_answers, p.not_before),
            (State::Queued, 1, Some(t0 + 4 * H))
        );
        // Too early for the second call.
        let e = step(
            &order,
            ALL,
            p,
            Event::Called(CallOutcome::NoAnswer),
            t0 + 3 * H,
        )
        .unwrap_err();
        assert_eq!(e, CampaignError::TooEarly(t0 + 4 * H));
        p = step(
            &order,
            ALL,
            p,
            Event::Called(CallOutcome::NoAnswer),
            t0 + 4 * H,
        )
        .unwrap();
        assert_eq!((p.channel, p.no_answers), (Some(Channel::Phone), 2));
        p = step(
            &order,
            ALL,
            p,
            Event::Called(CallOutcome::NoAnswer),
            t0 + 9 * H,
        )
        .unwrap();
        assert_eq!((p.channel, p.state), (Some(Channel::Post), State::Queued));
        // Last channel: unreachable after the third unanswered call.
        let only_phone = parse_order("phone").unwrap();
        let mut q = start(&only_phone, ALL);
        for k in 0..3 {
            q = step(
                &only_phone,
                ALL,
                q,
                Event::Called(CallOutcome::NoAnswer),
                k * 5 * H,
            )
            .unwrap();
        }
        assert_eq!((q.channel, q.state), (None, State::Unreachable));
    }

    #[test]
    fn orders_parse_and_refuse() {
        assert_eq!(
            parse_order("post,email,phone").unwrap(),
            DEFAULT_ORDER.to_vec()
        );
        assert_eq!(
            parse_order("電話、郵送").unwrap(),
            vec![Channel::Phone, Channel::Post]
        );
        assert_eq!(
            parse_order("email,email"),
            Err(CampaignError::DuplicateChannel(Channel::Email))
        );
        assert_eq!(parse_order(" "), Err(CampaignError::EmptyOrder));
        assert!(matches!(
            parse_order("fax"),
            Err(CampaignError::UnknownChannel(_))
        ));
        assert_eq!(order_code(&DEFAULT_ORDER), "post,email,phone");
        for reach in [
            ALL,
            Reach::default(),
            Reach {
                email: false,
                ..ALL
            },
        ] {
            assert_eq!(Reach::from_code(&reach.code()), reach);
        }
    }

    #[test]
    fn references_round_trip_and_catch_typos() {
        for id in [1, 42, 1_234_567, 987_654_321] {
            let r = reference(id);
            assert_eq!(parse_reference(&r), Some(id), "{r}");
        }
        assert_eq!(reference(1234), "0001234-4");
        assert_eq!(parse_reference("０００１２３４－４"), Some(1234));
        assert_eq!(parse_reference("0001234-5"), None, "wrong check digit");
        assert_eq!(parse_reference("0002134-4"), None, "swapped digits");
        assert_eq!(parse_reference("12-3"), None, "too short");
        assert_eq!(parse_reference("=1+2"), None);
    }

    #[test]
    fn return_reasons_and_emails() {
        assert_eq!(ReturnReason::parse("転居先不明"), Some(ReturnReason::Moved));
        assert_eq!(ReturnReason::parse("受取拒否"), Some(ReturnReason::Refused));
        assert_eq!(
            ReturnReason::parse("宛所に尋ねあたりません"),
            Some(ReturnReason::UnknownAddress)
        );
        assert_eq!(ReturnReason::parse(""), Some(ReturnReason::UnknownAddress));
        assert_eq!(ReturnReason::parse("なんとなく"), None);
        assert!(plausible_email("taro@example.jp"));
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "t aro@example.jp",
            "太郎@example.jp",
            "a@b@c.jp",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn timeline_lines_in_both_languages() {
        use crate::incident::line::Line;
        use crate::lang::Lang;
        let lines = [
            Line::NoticeSaved { version: 2 },
            Line::NoticeApproved { version: 2 },
            Line::CampaignStarted {
                persons: 1200,
                version: 2,
                channels: vec!["post".into(), "email".into(), "phone".into()],
            },
            Line::PublicNotice { covered: 1200 },
        ];
        for l in &lines {
            let ja = l.show(Lang::Ja);
            let en = l.show(Lang::En);
            assert!(!ja.is_empty() && !ja.is_ascii(), "{ja}");
            let japanese = |s: &str| s.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c));
            assert!(!en.is_empty() && !japanese(&en), "{en}");
            let json = serde_json::to_string(l).unwrap();
            assert_eq!(&serde_json::from_str::<Line>(&json).unwrap(), l);
        }
        assert_eq!(
            lines[2].show(Lang::Ja),
            "本人への通知を開始しました（対象1,200人、通知文第2版、手段 郵送→電子メール→電話）"
        );
        assert!(lines[3].show(Lang::En).contains("1,200 persons"));
    }

    #[test]
    fn message_ids_from_a_relay_log() {
        let log = "Dec  7 10:00:01 mx postfix/cleanup[1]: 4AB: message-id=<mamori.c3.r17.a1@example.co.jp>\n\
                   Dec  7 10:00:01 mx postfix/cleanup[1]: 4AC: message-id=<other@example.com>\n\
                   mamori.c3.r18.a2@example.co.jp\n\
                   Dec  7 10:00:02 mx postfix/qmgr[2]: 4AB: message-id=<mamori.c3.r17.a1@example.co.jp>";
        assert_eq!(
            campaign_ids_in_log(log),
            vec![
                "mamori.c3.r17.a1@example.co.jp".to_owned(),
                "mamori.c3.r18.a2@example.co.jp".to_owned()
            ]
        );
        assert!(campaign_ids_in_log("nothing here").is_empty());
    }
}
