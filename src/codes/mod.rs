//! National codes and their check characters: 统一社会信用代码 (GB 32100-2015),
//! 公民身份号码 (GB 11643-1999), administrative area codes (GB/T 2260) and the
//! ISO/IEC 7064 MOD 37,36 check character that GB/T 36904 licence identifiers use.
//!
//! Every code is a newtype that can only be built by parsing, so an invalid value cannot
//! travel through the program. No I/O.

mod area;
mod citizen;
mod disclosure;
mod error;
mod iso7064;
mod licence_id;
mod uscc;

pub use area::AreaCode;
pub use citizen::{CitizenId, mask};
pub use disclosure::public_holder_code;
pub use error::CodeError;
pub use iso7064::{mod37_36_check, mod37_36_valid};
pub use licence_id::{Deviation, LicenceId, TypeCode};
pub use uscc::Uscc;
