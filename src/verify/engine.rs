//! The engine: synchronous and sans-I/O, in two phases. [`Engine::read`] reads the input
//! with the trust set into a [`Step`]: a finished report, or a [`Pending`] one that names
//! the licence it needs from the register. The caller looks it up (or does not: offline)
//! and [`Engine::finish`] ends the report with that [`Lookup`].

use time::OffsetDateTime;

mod bundle;

pub use bundle::{BundleLicenceReport, BundleRead, BundleReport, BundleSummary};

use super::checks::{ClaimsContext, licence_checks, register_differences, seal_checks, summary};
use super::format::{self, Evidence, Read};
use super::register::{Lookup, RegisterEntry};
use super::report::{Check, Mode, Report, SigningTime, Subject, TimeBasis, Verdict};
use super::trust::TrustSet;
use crate::codes::LicenceId;
use crate::token;

/// What can be verified.
#[derive(Debug, Clone, Copy)]
pub enum Input<'i> {
    /// A QR token as text: the QR URL or the bare base32 token.
    TokenText(&'i str),
    /// A QR token's COSE bytes.
    Token(&'i [u8]),
    /// A signed licence PDF.
    Pdf(&'i [u8]),
    /// A signed licence OFD.
    Ofd(&'i [u8]),
    /// A licence identifier, to be looked up in the register (online only).
    Identifier(&'i str),
}

impl<'i> Input<'i> {
    /// An uploaded file as the document it is: an OFD (a zip: `PK\x03\x04`), else a PDF
    /// (whose reading says so if it is none).
    pub fn document(bytes: &'i [u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") { Self::Ofd(bytes) } else { Self::Pdf(bytes) }
    }

    /// What the report says was verified.
    pub fn subject(&self) -> Subject {
        match self {
            Self::TokenText(_) | Self::Token(_) => Subject::Token,
            Self::Pdf(_) => Subject::Pdf,
            Self::Ofd(_) => Subject::Ofd,
            Self::Identifier(_) => Subject::Identifier,
        }
    }
}

/// What [`Engine::read`] came to.
#[derive(Debug)]
pub enum Step {
    /// The report: nothing more is needed.
    Done(Box<Report>),
    /// The report waits for the register.
    Lookup(Pending),
}

/// A report waiting for the register's entry of one licence.
#[derive(Debug)]
pub struct Pending {
    identifier: String,
    waiting: Waiting,
}

#[derive(Debug)]
enum Waiting {
    /// A document read and authenticated: the register confirms it and gives its status.
    Document(Box<Evidence>),
    /// An identifier: the register gives the token to verify.
    Identifier,
}

impl Pending {
    /// The licence identifier to look up in the register.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }
}

/// The verification engine over one trust set, at one time — or, with [`Engine::as_of`],
/// judging as of another moment with what is known now.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    trust: &'a TrustSet,
    now: OffsetDateTime,
    at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("mode", &self.trust.mode())
            .field("now", &self.now)
            .field("at", &self.at)
            .finish()
    }
}

impl<'a> Engine<'a> {
    /// An engine over `trust`: online when the trust set is, and then a report may wait
    /// for the register.
    pub fn new(trust: &'a TrustSet, now: OffsetDateTime) -> Self {
        Self { trust, now, at: None }
    }

    /// The same engine judging as of `at` (see [`super::as_of`]): the report's
    /// `checked_at`, the licence's validity, the certificates' and the time-stamps'
    /// validity are taken at `at`; the register's status and the CRLs are what is known
    /// now, and the report says so.
    pub fn as_of(self, at: OffsetDateTime) -> Self {
        Self { at: Some(at), ..self }
    }

    /// The moment the report is for.
    fn moment(&self) -> OffsetDateTime {
        self.at.unwrap_or(self.now)
    }

    /// Phase one: reads the input. Offline, the report is always done.
    pub fn read(&self, input: Input<'_>) -> Step {
        let mode = self.trust.mode();
        let read = match input {
            Input::TokenText(text) => match token::decode_from_url(text) {
                Ok(bytes) => format::token::read(self.trust, &bytes, input.subject()),
                Err(e) => Read::Stopped(vec![Check::unreadable(&e.to_string())]),
            },
            Input::Token(bytes) => format::token::read(self.trust, bytes, input.subject()),
            Input::Pdf(bytes) => format::pdf::read(self.trust, bytes, self.moment()),
            Input::Ofd(bytes) => format::ofd::read(self.trust, bytes, self.moment()),
            Input::Identifier(identifier) => return self.read_identifier(identifier.trim()),
        };
        let evidence = match read {
            Read::Stopped(checks) => {
                return Step::Done(Box::new(Report::new(input.subject(), mode, self.moment(), checks)));
            }
            Read::Evidence(evidence) => evidence,
        };
        match evidence.claims.as_ref().map(|c| c.licence_id.clone()) {
            Some(identifier) if mode == Mode::Online => {
                Step::Lookup(Pending { identifier, waiting: Waiting::Document(evidence) })
            }
            Some(_) => Step::Done(Box::new(self.conclude(*evidence, Lookup::Offline))),
            // No licence data that hold: nothing for the register to confirm.
            None => Step::Done(Box::new(self.conclude(*evidence, Lookup::Missing))),
        }
    }

    /// Phase two: ends a pending report with what the register said of its identifier
    /// ([`Lookup::Offline`] if it was not asked).
    pub fn finish(&self, pending: Pending, lookup: Lookup) -> Report {
        match pending.waiting {
            Waiting::Document(evidence) => self.conclude(*evidence, lookup),
            Waiting::Identifier => self.finish_identifier(&pending.identifier, lookup),
        }
    }

    /// Both phases without a register: the report offline.
    pub fn verify_offline(&self, input: Input<'_>) -> Report {
        match self.read(input) {
            Step::Done(report) => *report,
            Step::Lookup(pending) => self.finish(pending, Lookup::Offline),
        }
    }

    /// Verifies a token given as text (the QR URL or the bare base32 token), offline.
    pub fn verify_token_text(&self, text: &str) -> Report {
        self.verify_offline(Input::TokenText(text))
    }

    /// Verifies COSE token bytes, offline.
    pub fn verify_token(&self, bytes: &[u8]) -> Report {
        self.verify_offline(Input::Token(bytes))
    }

    /// Verifies a signed licence PDF, offline.
    pub fn verify_pdf(&self, bytes: &[u8]) -> Report {
        self.verify_offline(Input::Pdf(bytes))
    }

    /// Verifies a signed licence OFD, offline.
    pub fn verify_ofd(&self, bytes: &[u8]) -> Report {
        self.verify_offline(Input::Ofd(bytes))
    }

    /// Verifies a licence identifier offline: it cannot be, without the register.
    pub fn verify_identifier(&self, identifier: &str) -> Report {
        self.verify_offline(Input::Identifier(identifier))
    }

    fn read_identifier(&self, identifier: &str) -> Step {
        if let Err(e) = LicenceId::parse(identifier) {
            let check = Check::fail(
                "licence.identifier",
                format!("证照标识无效：{e}"),
                format!("invalid identifier: {e}"),
            );
            return Step::Done(Box::new(self.identifier_report(self.trust.mode(), check)));
        }
        if self.trust.mode() == Mode::Offline {
            return Step::Done(Box::new(self.finish_identifier(identifier, Lookup::Offline)));
        }
        Step::Lookup(Pending { identifier: identifier.to_owned(), waiting: Waiting::Identifier })
    }

    /// An identifier's report: the token the register keeps for it, verified with the
    /// register's entry.
    fn finish_identifier(&self, identifier: &str, lookup: Lookup) -> Report {
        let entry = match lookup {
            _ if self.trust.mode() == Mode::Offline => None,
            Lookup::Offline => None,
            Lookup::Found(entry) => Some(entry),
            Lookup::Missing => {
                let check =
                    Check::fail("register.record", "证照库中没有此证照", "the register has no such licence");
                return self.identifier_report(Mode::Online, check);
            }
            Lookup::Unavailable => {
                let check = Check::not_checked(
                    "register.record",
                    "证照库暂时无法访问",
                    "the register could not be reached",
                );
                return self.identifier_report(Mode::Online, check);
            }
        };
        let Some(entry) = entry else {
            let check = Check::not_checked(
                "register.record",
                "离线核验只凭证照标识无法确认，请扫描二维码或上传 PDF",
                "offline, an identifier alone cannot be verified: scan the QR code or give the PDF",
            );
            return self.identifier_report(Mode::Offline, check);
        };
        let mut report = match format::token::read(self.trust, &entry.token, Subject::Identifier) {
            Read::Stopped(checks) => Report::new(Subject::Identifier, Mode::Online, self.moment(), checks),
            Read::Evidence(evidence) => self.conclude(*evidence, Lookup::Found(entry)),
        };
        if report.licence.as_ref().is_some_and(|l| l.identifier != identifier) {
            report.checks.push(Check::fail(
                "register.record",
                "证照库记录的令牌属于另一证照",
                "the register's token belongs to another licence",
            ));
            report.verdict = Verdict::Invalid;
        }
        report
    }

    fn identifier_report(&self, mode: Mode, check: Check) -> Report {
        Report::new(Subject::Identifier, mode, self.moment(), vec![check])
    }

    /// The checks every format shares, on a document's evidence and the register's
    /// answer: the seal at the signing time (the register's date when it holds exactly
    /// this licence), the record hash the document states, then the licence itself.
    fn conclude(&self, evidence: Evidence, lookup: Lookup) -> Report {
        let mode = match lookup {
            Lookup::Offline => Mode::Offline,
            _ => self.trust.mode(),
        };
        let entry: Option<&RegisterEntry> = lookup.entry().filter(|_| mode == Mode::Online);
        let Evidence {
            subject,
            mut checks,
            claims,
            seal,
            assessment,
            claimed_signing_time,
            proven_time,
            record_hash,
        } = evidence;
        let seal = seal.as_deref();
        let registered = match (entry, &claims) {
            (Some(e), Some(c)) => register_differences(c, seal, e).is_empty(),
            _ => false,
        };
        let signing_time = match (&proven_time, entry) {
            (Some(p), _) => {
                SigningTime { time: p.time, basis: TimeBasis::TimeStamp, tsa: Some(p.tsa.clone()) }
            }
            (None, Some(e)) if registered => {
                SigningTime { time: e.issued_at, basis: TimeBasis::Register, tsa: None }
            }
            _ => SigningTime { time: claimed_signing_time, basis: TimeBasis::Claimed, tsa: None },
        };
        let proven = signing_time.basis != TimeBasis::Claimed;
        let register_revocation =
            if mode == Mode::Online { seal.and_then(|s| s.register_revocation) } else { None };
        checks.extend(seal_checks(&assessment, register_revocation, signing_time.time, proven, self.now));
        if let (Some(stated), Some(e)) = (&record_hash, entry)
            && hex::encode(&e.record_hash) != *stated
        {
            checks.push(Check::fail(
                "register.record",
                "文档中的记录摘要与证照库不一致",
                "the document's record hash differs from the register's",
            ));
        }
        if let Some(claims) = &claims {
            let cx = ClaimsContext {
                claims,
                seal,
                entry,
                register_down: lookup == Lookup::Unavailable,
                mode,
                today: self.moment().date(),
            };
            licence_checks(&cx, &mut checks);
        }
        if let Some(at) = self.at.filter(|at| *at != self.now) {
            super::as_of::note_known_now(&mut checks, self.now, at);
        }
        let mut report = Report::new(subject, mode, self.moment(), checks);
        report.licence = claims.as_ref().map(|c| summary(c, seal, entry));
        report.seal = seal.map(|s| s.summary());
        report.signing_time = Some(signing_time);
        report
    }
}
