//! Zhengzhao (证照): electronic licences and electronic seals for government departments.
//!
//! Data flows one way: [`http`] and the command line call the services in [`platform`],
//! which use the domain modules ([`codes`], [`pki`], [`seal`]) and the [`store`].
//! [`server`] serves [`http`]'s app (`server::run(platform, listener, shutdown)`) and
//! starts what `zhengzhao serve` runs; the command line (`src/cli/`, in the binary) only
//! parses, calls the library and prints, one file per command group.
//! [`platform::Platform`] is built in one place and holds one small service per concern as
//! a public field: `pki` (roots, departments, seals, CRLs), `issuing`, `register` (reads,
//! checks, status, access log), `holders`, `verification`, `clients` (and portals), `audit`.
//! Policy they apply lives with the domain types it judges ([`licence::LicenceStatus::can_become`],
//! [`licence::TypeScope`], [`licence::CheckClaims`]).
//! Domain modules take time and randomness as arguments and do no I/O.
//! [`verify`] is one of them: a synchronous engine that reads a token, PDF or identifier
//! into a pending report, which the platform finishes with what it looked up in the store.
//! [`signing`] is the crypto layer the others sign and verify through: the one
//! [`signing::Algorithm`] enum (with its OIDs and COSE/JOSE names) and one signing path per
//! algorithm, which [`pki`] (certificates, CRLs, chain validation), [`token`], [`pdf`] and
//! [`jws`] share.
//! The [`store`] has one trait per role (PKI, licences, issuing, clients, access log,
//! authorisations, portals), combined into [`store::Store`], with one SQL file per role.

pub mod audit;
pub mod audit_checkpoint;
pub mod codes;
pub mod config;
pub mod font;
pub mod holder_assertion;
pub mod http;
pub mod jws;
pub mod keystore;
pub mod layout;
pub mod licence;
pub mod netrange;
pub mod ofd;
pub mod pdf;
pub mod pki;
pub mod platform;
pub mod seal;
pub mod server;
pub mod ses;
pub mod signing;
pub mod store;
pub mod token;
pub mod tsa;
pub mod verify;
