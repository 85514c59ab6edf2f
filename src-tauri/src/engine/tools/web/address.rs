//! Which IP addresses a network tool may connect to: public ones only, unless the run allows
//! private networks (`--allow-private-network`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public; `None` for a public address.
///
/// Refused: unspecified (`0.0.0.0`, `::`), loopback (`127.0.0.0/8`, `::1`), private
/// (`10/8`, `172.16/12`, `192.168/16`, IPv6 unique local `fc00::/7`), link-local (`169.254/16`,
/// `fe80::/10`), carrier-grade NAT (`100.64/10`), benchmarking (`198.18/15`), documentation,
/// multicast, broadcast and reserved (`240/4`) ranges. IPv4-mapped and IPv4-compatible IPv6
/// addresses (`::ffff:127.0.0.1`) are judged as the IPv4 address they carry.
pub fn non_public_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else if ip.is_documentation() || (a == 192 && b == 0 && c == 0) {
        Some("reserved")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_class(v4);
    }
    let seg = ip.segments();
    // IPv4-compatible (`::a.b.c.d`, deprecated) carries an IPv4 address too.
    if seg[..6].iter().all(|s| *s == 0) && !ip.is_loopback() && !ip.is_unspecified() {
        return v4_class(Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8));
    }
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if (seg[0] & 0xfe00) == 0xfc00 {
        Some("private")
    } else if (seg[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        Some("reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<&'static str> {
        non_public_class(text.parse().unwrap())
    }

    #[test]
    fn loopback_private_and_link_local_are_refused() {
        assert_eq!(class("127.0.0.1"), Some("loopback"));
        assert_eq!(class("127.8.9.10"), Some("loopback"));
        assert_eq!(class("::1"), Some("loopback"));
        assert_eq!(class("10.1.2.3"), Some("private"));
        assert_eq!(class("172.16.0.1"), Some("private"));
        assert_eq!(class("172.31.255.255"), Some("private"));
        assert_eq!(class("192.168.1.1"), Some("private"));
        assert_eq!(class("fd00::1"), Some("private"));
        assert_eq!(class("169.254.169.254"), Some("link-local"));
        assert_eq!(class("fe80::1"), Some("link-local"));
        assert_eq!(class("0.0.0.0"), Some("unspecified"));
        assert_eq!(class("::"), Some("unspecified"));
        assert_eq!(class("100.64.0.1"), Some("shared (carrier-grade NAT)"));
        assert_eq!(class("224.0.0.1"), Some("multicast"));
        assert_eq!(class("255.255.255.255"), Some("reserved"));
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        assert_eq!(class("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(class("::ffff:10.0.0.1"), Some("private"));
        assert_eq!(class("::169.254.1.1"), Some("link-local"));
        assert_eq!(class("::ffff:93.184.216.34"), None);
    }

    #[test]
    fn public_addresses_pass() {
        assert_eq!(class("93.184.216.34"), None);
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("2606:4700::1111"), None);
    }
}
