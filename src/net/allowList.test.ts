import assert from "node:assert/strict";
import { test } from "node:test";
import { isAppError } from "../core/errors.ts";
import { isPrivateAddress, parseFetchAllowList } from "./allowList.ts";

test("isPrivateAddress refuses every address that leads into a private network", () => {
  const expectations: Array<[string, boolean]> = [
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["192.168.1.10", true],
    ["169.254.169.254", true], // cloud metadata
    ["100.64.0.1", true],
    ["100.127.255.254", true],
    ["0.0.0.0", true],
    ["0.1.2.3", true],
    ["224.0.0.251", true],
    ["239.255.255.250", true],
    ["255.255.255.255", true],
    ["240.0.0.1", true],
    ["198.18.0.1", true],
    ["198.19.255.255", true],
    ["::1", true],
    ["::", true],
    ["fc00::1", true],
    ["fd12:3456::1", true],
    ["fe80::1", true],
    ["fe80::1%eth0", true],
    ["[::1]", true],
    ["ff02::1", true],
    ["::ffff:10.0.0.1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["::ffff:169.254.169.254", true],
    ["64:ff9b::10.0.0.1", true],
    ["64:ff9b::a9fe:a9fe", true],
    ["not-an-ip", true],
    ["8.8.8.8", false],
    ["1.1.1.1", false],
    ["172.32.0.1", false],
    ["100.128.0.1", false],
    ["198.20.0.1", false],
    ["2606:4700:4700::1111", false],
    ["::ffff:8.8.8.8", false],
    ["64:ff9b::8.8.8.8", false],
  ];
  for (const [ip, expected] of expectations) assert.equal(isPrivateAddress(ip), expected, ip);
});

test("CQA_FETCH_ALLOW lists host names, wildcards, addresses and CIDR ranges", () => {
  const allow = parseFetchAllowList(" Files.Internal, *.corp.example ,10.0.0.5, 127.0.0.1/8, fd00::/8,");
  assert.equal(allow.allowsHost("files.internal"), true);
  assert.equal(allow.allowsHost("FILES.INTERNAL."), true);
  assert.equal(allow.allowsHost("other.internal"), false);
  assert.equal(allow.allowsHost("media.corp.example"), true);
  assert.equal(allow.allowsHost("a.b.corp.example"), true);
  assert.equal(allow.allowsHost("corp.example"), false, "a wildcard covers subdomains only");
  assert.equal(allow.allowsHost("evilcorp.example"), false);
  assert.equal(allow.allowsAddress("10.0.0.5"), true);
  assert.equal(allow.allowsAddress("10.0.0.6"), false);
  assert.equal(allow.allowsAddress("127.3.4.5"), true);
  assert.equal(allow.allowsAddress("::ffff:127.0.0.1"), true);
  assert.equal(allow.allowsAddress("fd99::1"), true);
  assert.equal(allow.allowsAddress("fe80::1"), false);
  assert.equal(allow.allowsHost("127.0.0.1"), true, "an IP literal host is judged as an address");
});

test("an unset or empty CQA_FETCH_ALLOW allows nothing", () => {
  for (const spec of [undefined, "", "  ", ","]) {
    const allow = parseFetchAllowList(spec);
    assert.equal(allow.allowsAddress("127.0.0.1"), false);
    assert.equal(allow.allowsHost("localhost"), false);
  }
});

test("a bad CQA_FETCH_ALLOW entry is named in a CONFIG_INVALID error", () => {
  for (const entry of [
    "127.0.0.1/33",
    "10.0.0.0/x",
    "fd00::/129",
    "http://host",
    "bad host",
    "*.",
    "999.1.1.1",
  ]) {
    assert.throws(
      () => parseFetchAllowList(`localhost,${entry}`),
      (error: unknown) =>
        isAppError(error) &&
        error.code === "CONFIG_INVALID" &&
        error.message ===
          `CQA_FETCH_ALLOW entry '${entry}' is not a host name, an IP address or a CIDR such as 127.0.0.1/8`,
      entry,
    );
  }
});
