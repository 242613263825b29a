//! IP address ranges in CIDR form (`10.0.0.0/8`, `::1`), as the `trusted_proxies` setting
//! names them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address with a prefix length; a bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    network: IpAddr,
    prefix: u8,
}

impl AddrRange {
    /// Whether `address` lies in the range. An IPv4 address given as IPv6
    /// (`::ffff:a.b.c.d`) counts as the IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_bits(u128::from(u32::from(net)), u128::from(u32::from(a)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => prefix_bits(u128::from(net), u128::from(a), self.prefix, 128),
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as it is.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_bits(net: u128, address: u128, prefix: u8, width: u32) -> bool {
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return true;
    }
    let shift = width - prefix;
    (net >> shift) == (address >> shift)
}

/// Why a range could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)")]
pub struct AddrRangeError(String);

impl FromStr for AddrRange {
    type Err = AddrRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let err = || AddrRangeError(s.to_owned());
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = canonical(address.parse::<IpAddr>().map_err(|_| err())?);
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().map_err(|_| err())?
            }
            Some(_) => return Err(err()),
        };
        if prefix > width {
            return Err(err());
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl serde::Serialize for AddrRange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for AddrRange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ranges_contain_what_they_should() {
        let r: AddrRange = "10.0.0.0/8".parse().unwrap();
        assert!(r.contains("10.200.1.2".parse().unwrap()));
        assert!(r.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!r.contains("11.0.0.1".parse().unwrap()));
        assert!(!r.contains("::1".parse().unwrap()));
        let one: AddrRange = "127.0.0.2".parse().unwrap();
        assert!(one.contains("127.0.0.2".parse().unwrap()) && !one.contains("127.0.0.3".parse().unwrap()));
        let v6: AddrRange = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!("0.0.0.0/0".parse::<AddrRange>().unwrap().contains("8.8.8.8".parse().unwrap()));
        assert_eq!(r.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in
            ["", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "::1/129", "localhost", "1.2.3.4/+8"]
        {
            assert!(bad.parse::<AddrRange>().is_err(), "{bad}");
        }
    }
}
