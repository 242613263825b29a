//! The zip form of a [`Package`]: a deterministic writer and a reader for hostile uploads.
//!
//! Writing: entries in insertion order, deflate at [`DEFLATE_LEVEL`] except for entries that
//! are compressed already (see [`is_compressed_already`]: stored), every timestamp 1980-01-01
//! 00:00, permissions 0644, no directory entries and no extra fields, so one package always
//! gives the same bytes (with the same `zip`/`flate2` versions).
//!
//! Reading checks, in this order: input size; the entry count announced by the end of
//! central directory record (before the directory is parsed, so a 10,000-entry zip costs one
//! backwards scan); names (plain relative UTF-8 paths, no duplicates even by letter case);
//! encryption and method (stored or deflate only); then the inflated bytes of each entry,
//! counted while inflating against the per-entry, total and ratio limits. The CRC of each
//! entry is checked by the `zip` reader at its end.

use std::collections::HashSet;
use std::io::{Cursor, Read, Write};

use zip::read::{ArchiveOffset, Config};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::limits::RATIO_FLOOR;
use super::package::is_plain_path;
use super::{OfdError, Package, ReadLimits};

/// The deflate level of the writer. Level 2 (zlib's fast strategy) zips a licence OFD in
/// about half the time of level 6 (430 µs instead of 770 µs on the benchmark machine) for
/// 2 % more bytes (65.5 KB instead of 64.2 KB): the page XML and the font subset are most
/// of the work, and both shrink nearly as well at level 2.
const DEFLATE_LEVEL: i64 = 2;

/// Entries whose bytes deflate cannot shrink much, stored rather than deflated: images
/// (`.png`, `.jpg`, `.jpeg`) and signed values (`.dat`: a `SES_Signature` is mostly the
/// seal's PNG; deflate took 3 % off it for 350 µs, a third of zipping a licence OFD).
fn is_compressed_already(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".dat"].iter().any(|ext| lower.ends_with(ext))
}

/// Smallest central directory file header (without name, extra field, comment).
const CD_HEADER_MIN: u64 = 46;

impl Package {
    /// The package as zip bytes: insertion order, deflate (images and signed values
    /// stored), fixed timestamps (see the module documentation); the same package always
    /// gives the same bytes.
    pub fn to_zip(&self) -> Result<Vec<u8>, OfdError> {
        let options =
            SimpleFileOptions::default().last_modified_time(DateTime::DEFAULT).unix_permissions(0o644);
        let deflated =
            options.compression_method(CompressionMethod::Deflated).compression_level(Some(DEFLATE_LEVEL));
        let stored = options.compression_method(CompressionMethod::Stored);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let fail = |e: &dyn std::fmt::Display| OfdError::ZipWrite(e.to_string());
        for (path, bytes) in self.files() {
            let options = if is_compressed_already(path) { stored } else { deflated };
            writer.start_file(path, options).map_err(|e| fail(&e))?;
            writer.write_all(bytes).map_err(|e| fail(&e))?;
        }
        Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
    }

    /// Reads an uploaded OFD zip under `limits`; directory entries are skipped. See the
    /// module documentation for the order of the checks.
    pub fn from_zip(bytes: &[u8], limits: &ReadLimits) -> Result<Package, OfdError> {
        if bytes.len() > limits.max_input_bytes {
            return Err(OfdError::InputTooLarge { len: bytes.len(), max: limits.max_input_bytes });
        }
        let announced = announced_entries(bytes)?;
        if announced > limits.max_entries as u64 {
            return Err(OfdError::TooManyEntries { count: announced, max: limits.max_entries });
        }
        let config = Config { archive_offset: ArchiveOffset::Known(0) };
        let mut archive = ZipArchive::with_config(config, Cursor::new(bytes))
            .map_err(|e| OfdError::NotZip(e.to_string()))?;
        if archive.len() > limits.max_entries {
            let count = archive.len() as u64;
            return Err(OfdError::TooManyEntries { count, max: limits.max_entries });
        }
        let mut package = Package::new();
        let mut seen = HashSet::new();
        let mut total = 0u64;
        for index in 0..archive.len() {
            let (name, is_dir) = entry_name(&mut archive, index)?;
            if !seen.insert(name.to_lowercase()) {
                return Err(OfdError::DuplicateEntry(name));
            }
            if is_dir {
                continue;
            }
            let data = inflate(&mut archive, index, &name, limits, &mut total)?;
            package.insert(name, data).map_err(|e| match e {
                OfdError::BadPath(n) => OfdError::BadEntryName(n),
                other => other,
            })?;
        }
        Ok(package)
    }
}

/// The entry count the end of central directory record announces (the zip64 record's when
/// the classic one says 0xFFFF), or the directory size over the smallest header if larger.
fn announced_entries(bytes: &[u8]) -> Result<u64, OfdError> {
    let not_zip = |why: &str| OfdError::NotZip(why.to_owned());
    let from = bytes.len().saturating_sub(22 + 0xFFFF);
    let tail = bytes.get(from..).unwrap_or_default();
    let pos = memchr::memmem::rfind(tail, b"PK\x05\x06")
        .map(|p| p + from)
        .ok_or_else(|| not_zip("no end of central directory record (truncated or not a zip)"))?;
    let eocd = bytes.get(pos..pos + 22).ok_or_else(|| not_zip("truncated end record"))?;
    let entries = u64::from(u16::from_le_bytes([eocd[10], eocd[11]]));
    let cd_size = u64::from(u32::from_le_bytes([eocd[12], eocd[13], eocd[14], eocd[15]]));
    if entries != 0xFFFF && cd_size != 0xFFFF_FFFF {
        return Ok(entries);
    }
    // Zip64: the locator sits just before the classic record and points at the zip64 one.
    let locator = pos.checked_sub(20).and_then(|l| bytes.get(l..pos));
    let record = locator.filter(|l| l.starts_with(b"PK\x06\x07")).and_then(|l| {
        let offset = usize::try_from(le_u64(&l[8..16])).ok()?;
        bytes.get(offset..offset.checked_add(56)?).filter(|r| r.starts_with(b"PK\x06\x06"))
    });
    let record = record.ok_or_else(|| not_zip("zip64 end record missing"))?;
    Ok(le_u64(&record[32..40]).max(le_u64(&record[40..48]) / CD_HEADER_MIN))
}

fn le_u64(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

/// The entry's name, checked, and whether it is a directory; refuses encrypted entries and
/// methods other than stored and deflate.
fn entry_name(archive: &mut ZipArchive<Cursor<&[u8]>>, index: usize) -> Result<(String, bool), OfdError> {
    let file = archive.by_index_raw(index).map_err(|e| OfdError::NotZip(e.to_string()))?;
    let raw = file.name_raw();
    let name = std::str::from_utf8(raw)
        .map_err(|_| OfdError::BadEntryName(String::from_utf8_lossy(raw).into_owned()))?
        .to_owned();
    let is_dir = name.ends_with('/');
    if !is_plain_path(name.strip_suffix('/').unwrap_or(&name)) {
        return Err(OfdError::BadEntryName(name));
    }
    if file.encrypted() {
        return Err(OfdError::EncryptedEntry(name));
    }
    let method = file.compression();
    if method != CompressionMethod::Stored && method != CompressionMethod::Deflated {
        return Err(OfdError::UnsupportedCompression { name, method: format!("{method:?}") });
    }
    Ok((name, is_dir))
}

/// Inflates one entry, counting bytes as they come against the limits.
fn inflate(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
    limits: &ReadLimits,
    total: &mut u64,
) -> Result<Vec<u8>, OfdError> {
    let corrupt =
        |e: &dyn std::fmt::Display| OfdError::CorruptEntry { name: name.to_owned(), reason: e.to_string() };
    let mut file = archive.by_index(index).map_err(|e| corrupt(&e))?;
    let compressed = file.compressed_size().max(1);
    let mut out = Vec::with_capacity(file.size().min(64 << 10) as usize);
    let mut buf = vec![0u8; 32 << 10];
    loop {
        let n = file.read(&mut buf).map_err(|e| corrupt(&e))?;
        if n == 0 {
            return Ok(out);
        }
        let len = out.len() as u64 + n as u64;
        *total += n as u64;
        if len > limits.max_entry_bytes {
            let max = limits.max_entry_bytes;
            return Err(OfdError::EntryTooLarge { name: name.to_owned(), max });
        }
        if *total > limits.max_total_bytes {
            return Err(OfdError::TotalTooLarge { max: limits.max_total_bytes });
        }
        if len > RATIO_FLOOR && len / compressed > limits.max_ratio {
            let max = limits.max_ratio;
            return Err(OfdError::CompressionRatio { name: name.to_owned(), max });
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Package {
        let mut p = Package::new();
        p.insert("OFD.xml", b"<a/>".to_vec()).unwrap();
        p.insert("Doc_0/Document.xml", vec![b'x'; 5000]).unwrap();
        p
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let zip = sample().to_zip().unwrap();
        assert_eq!(zip, sample().to_zip().unwrap());
        let back = Package::from_zip(&zip, &ReadLimits::default()).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn images_and_signed_values_are_stored_and_the_rest_deflated() {
        let mut p = sample();
        p.insert("Doc_0/Signs/Sign_0/SignedValue.dat", vec![7; 3000]).unwrap();
        p.insert("Doc_0/Res/Seal.PNG", vec![8; 3000]).unwrap();
        let zip = p.to_zip().unwrap();
        let mut archive = ZipArchive::new(Cursor::new(zip.as_slice())).unwrap();
        let methods: Vec<(String, CompressionMethod)> = (0..archive.len())
            .map(|i| {
                let entry = archive.by_index_raw(i).unwrap();
                (entry.name().unwrap().into_owned(), entry.compression())
            })
            .collect();
        let expect = [
            ("OFD.xml", CompressionMethod::Deflated),
            ("Doc_0/Document.xml", CompressionMethod::Deflated),
            ("Doc_0/Signs/Sign_0/SignedValue.dat", CompressionMethod::Stored),
            ("Doc_0/Res/Seal.PNG", CompressionMethod::Stored),
        ];
        assert_eq!(methods, expect.map(|(n, m)| (n.to_owned(), m)));
        assert_eq!(Package::from_zip(&zip, &ReadLimits::default()).unwrap(), p);
    }

    #[test]
    fn announced_count_is_read_before_the_directory() {
        let zip = sample().to_zip().unwrap();
        assert_eq!(announced_entries(&zip).unwrap(), 2);
        let limits = ReadLimits { max_entries: 1, ..ReadLimits::default() };
        let err = Package::from_zip(&zip, &limits).unwrap_err();
        assert_eq!(err.code(), "ofd_too_many_entries");
        assert_eq!(announced_entries(b"PK\x03\x04").unwrap_err().code(), "ofd_not_zip");
    }
}
