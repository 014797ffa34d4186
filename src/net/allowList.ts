import { BlockList, isIP } from "node:net";
import { AppError } from "../core/errors.ts";
import { bareIp, embeddedIpv4 } from "./ipAddress.ts";

export { isPrivateAddress } from "./ipAddress.ts";

/** The private hosts and addresses an operator lets cqa fetch from (`CQA_FETCH_ALLOW`). */
export interface FetchAllowList {
  /** Whether a host name (or IP literal) is listed, exactly or through a `*.` wildcard. */
  allowsHost(hostname: string): boolean;
  /** Whether an address is listed, as itself or inside a listed CIDR range. */
  allowsAddress(ip: string): boolean;
  /** The setting as given, for messages. */
  readonly spec: string;
}

// RFC 1123 labels; underscores too, since internal DNS names often carry them.
const hostNamePattern =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Parses `CQA_FETCH_ALLOW`: comma-separated host names (`files.internal`), wildcards
 * (`*.corp.example` — subdomains only, not the name itself), IP addresses and CIDR ranges
 * (`127.0.0.1/8`, `fd00::/8`). Empty or unset allows no private address at all.
 */
export function parseFetchAllowList(spec: string | undefined): FetchAllowList {
  const text = (spec ?? "").trim();
  const hosts = new Set<string>();
  const wildcardSuffixes: string[] = [];
  const addresses = new BlockList();

  for (const rawEntry of text.split(",")) {
    const entry = rawEntry.trim().toLowerCase();
    if (entry === "") continue;
    if (addCidrOrAddress(addresses, entry)) continue;
    if (entry.startsWith("*.") && isHostName(normaliseHost(entry.slice(2)))) {
      wildcardSuffixes.push(normaliseHost(entry.slice(1)));
      continue;
    }
    if (isHostName(normaliseHost(entry))) {
      hosts.add(normaliseHost(entry));
      continue;
    }
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_FETCH_ALLOW entry '${rawEntry.trim()}' is not a host name, an IP address or a CIDR such as 127.0.0.1/8`,
    );
  }

  const allowsAddress = (ip: string): boolean => {
    const address = bareIp(ip);
    const family = isIP(address);
    if (family === 0) return false;
    if (family === 6) {
      const carried = embeddedIpv4(address);
      if (carried !== null && addresses.check(carried, "ipv4")) return true;
    }
    return addresses.check(address, family === 4 ? "ipv4" : "ipv6");
  };

  return {
    spec: text,
    allowsAddress,
    allowsHost(hostname: string): boolean {
      if (isIP(bareIp(hostname)) !== 0) return allowsAddress(hostname);
      const host = normaliseHost(hostname);
      return hosts.has(host) || wildcardSuffixes.some((suffix) => host.endsWith(suffix));
    },
  };
}

/** Adds `entry` to the list when it is an address or a CIDR; false when it is neither. */
function addCidrOrAddress(addresses: BlockList, entry: string): boolean {
  const slash = entry.indexOf("/");
  const address = bareIp(slash === -1 ? entry : entry.slice(0, slash));
  const family = isIP(address);
  if (family === 0) return false;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (slash === -1) {
    addresses.addAddress(address, type);
    return true;
  }
  const prefixText = entry.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return false;
  addresses.addSubnet(address, prefix, type);
  return true;
}

/** A DNS name a URL can carry; names ending in a numeric label are read as IPv4 by URL parsers. */
function isHostName(text: string): boolean {
  return hostNamePattern.test(text) && !/(^|\.)\d+$/.test(text);
}

/** Lower case, without the trailing dot of a fully qualified name. */
function normaliseHost(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
