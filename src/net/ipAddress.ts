import { BlockList, isIP } from "node:net";

/** An IP literal as it may appear in a URL or a log: strips `[...]` brackets and an IPv6 zone (`%eth0`). */
export function bareIp(text: string): string {
  const unbracketed = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const zone = unbracketed.indexOf("%");
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

// IPv4 ranges no public service lives in. 240.0.0.0/4 also covers the broadcast address.
const privateIpv4Ranges: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // RFC 1918
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, including cloud metadata at 169.254.169.254
  ["172.16.0.0", 12], // RFC 1918
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.168.0.0", 16], // RFC 1918
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved and broadcast
];

const privateIpv6Ranges: ReadonlyArray<readonly [string, number]> = [
  // IPv4-compatible (deprecated) addresses, and with them :: and ::1; nothing public lives here.
  ["::", 96],
  ["64:ff9b:1::", 48], // NAT64 for local use (RFC 8215)
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some stacks)
  ["ff00::", 8], // multicast
];

const privateIpv4 = new BlockList();
for (const [network, prefix] of privateIpv4Ranges) privateIpv4.addSubnet(network, prefix, "ipv4");
const privateIpv6 = new BlockList();
for (const [network, prefix] of privateIpv6Ranges) privateIpv6.addSubnet(network, prefix, "ipv6");

/**
 * Whether an address is loopback, private, link-local, reserved or otherwise not a public
 * internet host. IPv4-mapped (`::ffff:10.0.0.1`) and NAT64 (`64:ff9b::/96`) addresses are judged
 * by the IPv4 address they carry. Anything that is not an IP address counts as private.
 */
export function isPrivateAddress(ip: string): boolean {
  const address = bareIp(ip);
  const family = isIP(address);
  if (family === 4) return privateIpv4.check(address, "ipv4");
  if (family !== 6) return true;
  const carried = embeddedIpv4(address);
  if (carried !== null) return privateIpv4.check(carried, "ipv4");
  return privateIpv6.check(address, "ipv6");
}

/**
 * The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address
 * reaches, or null. Connecting to these reaches the IPv4 host, so they must be judged as it.
 */
export function embeddedIpv4(ipv6: string): string | null {
  const bytes = ipv6Bytes(ipv6);
  if (bytes === null) return null;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const nat64 =
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    bytes.subarray(4, 12).every((b) => b === 0);
  return mapped || nat64 ? Array.from(bytes.subarray(12)).join(".") : null;
}

/** The 16 bytes of an IPv6 address, or null when the text is not one. */
function ipv6Bytes(ipv6: string): Uint8Array | null {
  let text = bareIp(ipv6);
  if (isIP(text) !== 6) return null;
  // A trailing dotted IPv4 part (::ffff:10.0.0.1) becomes two hex groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = [...headGroups, ...zeros, ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}
