//! Who the client is, for per-address limits: the connection's peer address, or, only when
//! that peer is one of the `trusted_proxies`, the address the proxies name in `Forwarded`
//! (RFC 7239) or `X-Forwarded-For`, read from the right, skipping trusted hops. A request
//! whose peer address is unknown is refused (fail closed), never let through unlimited.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;
use crate::netrange::{AddrRange, canonical};

/// The client address a request is limited by (set by [`limit_by_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client behind `peer`: `peer` itself unless it is a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[AddrRange]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    let hops: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| parse_node(hop.trim()))
            .collect()
    } else {
        forwarded.iter().flat_map(|v| v.split(',')).filter_map(forwarded_for).collect()
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            // An unreadable or obfuscated hop: trust nothing further left.
            None => return client,
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    return ip;
                }
            }
        }
    }
    client
}

/// The `for=` node of one `Forwarded` element; `None` inside when it is unreadable,
/// `None` outside when the element has no `for`.
fn forwarded_for(element: &str) -> Option<Option<IpAddr>> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim().trim_matches('"')))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok().map(canonical);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    node.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// Middleware for the public endpoints: finds the client address and takes one request
/// from its rate budget (429 `rate_limited` when spent). Without a peer address — the
/// server did not record one — the request is refused with 500 `client_address_unknown`.
pub async fn limit_by_address(
    State(platform): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        tracing::error!("no peer address on a public request; refusing it (serve with connect info)");
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "client_address_unknown",
            "the service cannot tell the client's address; request refused",
        )
        .into_response();
    };
    let ip = client_ip(peer.ip(), request.headers(), &platform.config.trusted_proxies);
    if let Err(e) = platform.clients.rate_limit_address(ip) {
        // Paced: a client that retries at once waits instead of spinning the service.
        tokio::time::sleep(Duration::from_millis(u64::from(platform.config.refusal_delay_ms))).await;
        return ApiError::from(e).into_response();
    }
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let trusted: Vec<AddrRange> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "198.51.100.7")]);
        // An untrusted peer cannot choose its own bucket.
        assert_eq!(client_ip(ip("203.0.113.9"), &xff, &trusted), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), &xff, &[]), ip("203.0.113.9"));
        // A trusted one names the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &xff, &trusted), ip("198.51.100.7"));
        // Without headers the proxy itself is the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<AddrRange> = vec!["10.0.0.0/8".parse().unwrap()];
        // The leftmost entry is whatever the client wrote; the proxy appended the real peer.
        let spoofed = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &spoofed, &trusted), ip("198.51.100.7"));
        let lines = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "198.51.100.8")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &lines, &trusted), ip("198.51.100.8"));
        let junk = headers(&[("x-forwarded-for", "1.1.1.1, unknown")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &junk, &trusted), ip("10.0.0.2"));
        let all_trusted = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.5")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &all_trusted, &trusted), ip("10.1.1.1"));
    }

    #[test]
    fn forwarded_wins_and_parses_its_forms() {
        let trusted: Vec<AddrRange> = vec!["127.0.0.1".parse().unwrap()];
        let h = headers(&[
            ("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "For=\"192.0.2.61:8080\"")]);
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &h, &trusted), ip("192.0.2.61"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }
}
